import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { startCollector } from '../helpers/otlp-collector.js';
import { type Served, startServe } from '../helpers/serve.js';
import { fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';

// issue 27: a real `credport serve` with OTEL_EXPORTER_OTLP_ENDPOINT sends its spans as OTLP JSON to
// <endpoint>/v1/traces (here a collector stand-in on loopback), flushed when it stops; no span holds
// a secret, an id or a query.

const API_TOKEN = 'traces-test-api-token-0123456789abcdef';
const MASTER_KEY = randomMasterKey();
const apiKey = fakeToken('otlp');

let home: string;
let emulator: FrontEmulator;
let collector: Awaited<ReturnType<typeof startCollector>>;
let served: Served;

beforeAll(async () => {
  home = await tempHome();
  emulator = await new FrontEmulator({ tokens: [apiKey] }).start();
  collector = await startCollector();
  served = await startServe({
    home,
    args: ['--allow-origin', `front=${emulator.url}`],
    env: {
      CREDPORT_API_TOKEN: API_TOKEN,
      CREDPORT_MASTER_KEY: MASTER_KEY,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
  });
}, 30_000);

afterAll(async () => {
  await served?.stop();
  await collector?.close();
  await emulator?.stop();
  await removeHome(home);
});

describe('serve with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('exports the request, verification and provider spans as OTLP JSON to /v1/traces, without a secret', async () => {
    const added = await fetch(`${served.url}/api/v1/credentials`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ connector: 'front', baseUrl: emulator.url, values: { name: 'Traced Support', apiKey } }),
    });
    expect(added.status).toBe(201);
    const { id } = (await added.json()) as { id: string };
    const shown = await fetch(`${served.url}/api/v1/credentials/${id}?q=${apiKey}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(shown.status).toBe(200);
    // Stopping flushes what the batch still holds.
    await served.stop();

    expect(collector.exports.length).toBeGreaterThan(0);
    for (const e of collector.exports) expect([e.method, e.url, e.contentType]).toEqual(['POST', '/v1/traces', 'application/json']);
    const spans = collector.spans();
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['credport-serve']));
    expect(spans.map((s) => s.name).sort()).toEqual([
      'GET',
      'GET /api/v1/credentials/:id',
      'POST /api/v1/credentials',
      'credport.verification',
    ]);
    expect(spans.find((s) => s.name === 'credport.verification')!.attributes).toEqual({
      'credport.connector': 'front',
      'credport.outcome': 'ok',
    });
    const text = collector.exports.map((e) => e.body).join('\n');
    for (const secret of [API_TOKEN, MASTER_KEY, apiKey, id, 'Bearer', 'Traced Support', emulator.url])
      expect([secret, text.includes(secret)]).toEqual([secret, false]);
    expect(text).not.toContain('?');
  });
});
