import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createBearerAuth } from '../../src/auth/bearer.js';
import { FrontEmulator, type SeenRequest } from '../../src/emulator/front-emulator.js';
import { type ClientEvent, ProviderClient } from '../../src/http/provider-client.js';
import { RateGate } from '../../src/http/rate-gate.js';
import type { Connector } from '../../src/registry/connector.js';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';
import { fakeToken } from '../helpers/temp-home.js';

const WAIT_MS = 500;
const TOKEN = fakeToken();

/** Answers the first request 429 ("retry in 500 ms"), every other one 200; notes when each arrived. */
let emulator: FrontEmulator;
let url: string;
let arrivals: SeenRequest[];
let answered429At = 0;

let front: Connector;
beforeAll(async () => {
  front = (await ConnectorRegistry.load()).get('front');
  const tooMany = { status: 429, message: `Please retry in ${WAIT_MS} milliseconds.`, headers: { 'retry-after': String(WAIT_MS) } };
  emulator = await new FrontEmulator({ tokens: [TOKEN], records: 0, firstAnswers: [tooMany], recordRequests: true }).start();
  url = emulator.url;
  arrivals = emulator.seen;
});
afterAll(() => emulator.stop());
beforeEach(() => {
  arrivals.length = 0;
});

describe('a 429 pauses every request of the credential', () => {
  it("holds the credential's other requests (the writer's other lanes, another client) until the provider's wait is over", async () => {
    const token = TOKEN;
    const gate = new RateGate();
    let rateLimited!: () => void;
    const sawRateLimit = new Promise<void>((resolve) => (rateLimited = resolve));
    const onEvent = (event: ClientEvent) => {
      if (event.type === 'rate_limited') rateLimited();
    };
    const http = { timeoutMs: 5000, retries: 2 };
    const client = new ProviderClient(front, url, createBearerAuth(token), http, { gate, onEvent });
    const other = new ProviderClient(front, url, createBearerAuth(token), http, { gate });

    const first = client.request({ path: '/contacts?lane=1' });
    await sawRateLimit;
    answered429At = arrivals[0]!.at; // the emulator answers a scripted 429 as it arrives
    // Three more requests start while the first one waits out its 429, as the destination's lanes do.
    const rest = [
      client.request({ path: '/contacts?lane=2' }),
      client.request({ path: '/contacts?lane=3' }),
      other.request({ path: '/contacts?lane=4' }),
    ];
    const answers = await Promise.all([first, ...rest]);

    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(arrivals).toHaveLength(5); // the 429, its retry, and three others
    for (const later of arrivals.slice(1)) expect(later.at - answered429At).toBeGreaterThanOrEqual(WAIT_MS - 20);
  });
});
