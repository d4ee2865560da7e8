import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createBearerAuth } from '../../src/auth/bearer.js';
import { type ClientEvent, ProviderClient } from '../../src/http/provider-client.js';
import { RateGate } from '../../src/http/rate-gate.js';
import type { Connector } from '../../src/registry/connector.js';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';
import { fakeToken } from '../helpers/temp-home.js';

const WAIT_MS = 500;

/** Answers the first request 429 ("retry in 500 ms"), every other one 200; notes when each arrived. */
let server: Server;
let url: string;
const arrivals: { path: string; at: number }[] = [];
let answered429At = 0;

let front: Connector;
beforeAll(async () => {
  front = (await ConnectorRegistry.load()).get('front');
  server = createServer((req, res) => {
    arrivals.push({ path: req.url ?? '', at: Date.now() });
    res.setHeader('content-type', 'application/json');
    if (arrivals.length === 1) {
      answered429At = Date.now();
      res.writeHead(429, { 'retry-after': String(WAIT_MS) });
      return void res.end(JSON.stringify({ _error: { status: 429, title: 'Too Many Requests', message: `Please retry in ${WAIT_MS} milliseconds.` } }));
    }
    res.writeHead(200);
    res.end(JSON.stringify({ _links: {}, _results: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  arrivals.length = 0;
});

describe('a 429 pauses every request of the credential', () => {
  it("holds the credential's other requests (the writer's other lanes, another client) until the provider's wait is over", async () => {
    const token = fakeToken();
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
    // Three more requests start while the first one waits out its 429, as the destination's lanes do.
    const rest = [client.request({ path: '/contacts?lane=2' }), client.request({ path: '/contacts?lane=3' }), other.request({ path: '/contacts?lane=4' })];
    const answers = await Promise.all([first, ...rest]);

    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(arrivals).toHaveLength(5); // the 429, its retry, and three others
    for (const later of arrivals.slice(1)) expect(later.at - answered429At).toBeGreaterThanOrEqual(WAIT_MS - 20);
  });
});
