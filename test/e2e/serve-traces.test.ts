import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { type Served, startServe } from '../helpers/serve.js';
import { fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';

// issue 27: a real `credport serve` with OTEL_EXPORTER_OTLP_ENDPOINT sends its spans as OTLP JSON to
// <endpoint>/v1/traces (here a collector stand-in on loopback), flushed when it stops; no span holds
// a secret, an id or a query.

const API_TOKEN = 'traces-test-api-token-0123456789abcdef';
const MASTER_KEY = randomMasterKey();
const apiKey = fakeToken('otlp');

interface Export {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

let home: string;
let emulator: FrontEmulator;
let collector: Server;
let collectorUrl: string;
const exports: Export[] = [];
let served: Served;

beforeAll(async () => {
  home = await tempHome();
  emulator = await new FrontEmulator({ tokens: [apiKey] }).start();
  collector = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      exports.push({
        method: request.method ?? '',
        url: request.url ?? '',
        contentType: request.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  served = await startServe({
    home,
    args: ['--allow-origin', `front=${emulator.url}`],
    env: {
      CREDPORT_API_TOKEN: API_TOKEN,
      CREDPORT_MASTER_KEY: MASTER_KEY,
      OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
  });
}, 30_000);

afterAll(async () => {
  await served?.stop();
  await new Promise((resolve) => collector?.close(resolve));
  await emulator?.stop();
  await removeHome(home);
});

/** Every span of every export, with its resource's service.name. */
function spansIn(all: Export[]): { name: string; service: string; attributes: Record<string, unknown> }[] {
  const attr = (list: { key: string; value: Record<string, unknown> }[] = []) =>
    Object.fromEntries(list.map((a) => [a.key, Object.values(a.value)[0]]));
  type Body = {
    resourceSpans: {
      resource: { attributes: { key: string; value: Record<string, unknown> }[] };
      scopeSpans: { spans: { name: string; attributes: { key: string; value: Record<string, unknown> }[] }[] }[];
    }[];
  };
  return all.flatMap((e) =>
    (JSON.parse(e.body) as Body).resourceSpans.flatMap((r) =>
      r.scopeSpans.flatMap((s) =>
        s.spans.map((span) => ({
          name: span.name,
          service: String(attr(r.resource.attributes)['service.name']),
          attributes: attr(span.attributes),
        })),
      ),
    ),
  );
}

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

    expect(exports.length).toBeGreaterThan(0);
    for (const e of exports) expect([e.method, e.url, e.contentType]).toEqual(['POST', '/v1/traces', 'application/json']);
    const spans = spansIn(exports);
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
    const text = exports.map((e) => e.body).join('\n');
    for (const secret of [API_TOKEN, MASTER_KEY, apiKey, id, 'Bearer', 'Traced Support', emulator.url])
      expect([secret, text.includes(secret)]).toEqual([secret, false]);
    expect(text).not.toContain('?');
  });
});
