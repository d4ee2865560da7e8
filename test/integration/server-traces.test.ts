import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { API_TOKEN, type ApiUnderTest, startApi } from '../helpers/api-server.js';
import { recordSpans, serialised, type SpanRecorder } from '../helpers/span-recorder.js';
import type { JsonBody } from '../helpers/json-body.js';
import { fakeToken } from '../helpers/temp-home.js';

// issue 27: a span per request on `serve`, named by its route pattern, with the method and the
// status: never the raw URL, a path parameter, a query or a header value. A verification made for a
// request nests below it; a sync a request starts is its own trace, linked to that request.

let recorder: SpanRecorder;
let front: FrontEmulator;
let api: ApiUnderTest;
const apiKey = fakeToken('server-traces');
const HEADER_VALUE = 'x-tenant-secret-value-6c1f0e';

beforeAll(async () => {
  recorder = recordSpans();
  front = await new FrontEmulator({ tokens: [apiKey], records: 30 }).start();
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
  await front?.stop();
  await recorder.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: JsonBody }> {
  const answer = await fetch(`${api.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${API_TOKEN}`,
      'x-custom': HEADER_VALUE,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: answer.status, body: (await answer.json().catch(() => ({}))) as Record<string, unknown> };
}

const server = (spans: ReadableSpan[]) => spans.filter((s) => s.kind === SpanKind.SERVER);

describe('request spans on serve', () => {
  it('name the route pattern and the status, hold no id, query or header value, and parent the verification', async () => {
    recorder.reset();
    const added = await call('POST', '/api/v1/credentials', {
      connector: 'front',
      baseUrl: front.url,
      values: { name: 'Support', apiKey },
    });
    expect(added.status).toBe(201);
    const id = added.body.id as string;
    expect((await call('GET', `/api/v1/credentials/${id}?secret=${HEADER_VALUE}`)).status).toBe(200);
    expect((await call('GET', '/api/v1/no-such-route/abc-123')).status).toBe(404);
    const spans = recorder.spans();
    expect(server(spans).map((s) => [s.name, s.attributes])).toEqual([
      [
        'POST /api/v1/credentials',
        { 'http.request.method': 'POST', 'http.route': '/api/v1/credentials', 'http.response.status_code': 201 },
      ],
      [
        'GET /api/v1/credentials/:id',
        { 'http.request.method': 'GET', 'http.route': '/api/v1/credentials/:id', 'http.response.status_code': 200 },
      ],
      ['GET', { 'http.request.method': 'GET', 'http.response.status_code': 404 }],
    ]);
    // The verification the create made (and its provider request) in the request's trace.
    const post = server(spans)[0]!;
    const verification = spans.find((s) => s.name === 'credport.verification')!;
    expect(verification.parentSpanContext?.spanId).toBe(post.spanContext().spanId);
    expect(verification.attributes).toEqual({ 'credport.connector': 'front', 'credport.outcome': 'ok' });
    const text = serialised(spans);
    for (const secret of [id, HEADER_VALUE, API_TOKEN, apiKey, 'abc-123', 'Bearer', front.url])
      expect([secret, text.includes(secret)]).toEqual([secret, false]);
    expect(text).not.toContain('?');
  });

  it('a sync started by a request is its own trace, linked to that request', async () => {
    const tile = (await call('GET', '/api/v1/credentials')).body as { id: string }[];
    const source = await call('POST', '/api/v1/sources', { name: 'S', connector: 'front', credentialId: tile[0]!.id, streams: ['tags'] });
    const destination = await call('POST', '/api/v1/destinations', { name: 'D', connector: 'jsonl' });
    recorder.reset();
    const started = await call('POST', '/api/v1/syncs', { source: source.body.id, destination: destination.body.id });
    expect(started.status).toBe(202);
    let job = started.body;
    while (job.status === 'running') {
      await sleep(20);
      job = (await call('GET', `/api/v1/syncs/${started.body.id as string}`)).body;
    }
    expect(job.status).toBe('finished');
    const spans = recorder.spans();
    const post = server(spans).find((s) => s.name === 'POST /api/v1/syncs')!;
    const run = spans.find((s) => s.name === 'credport.sync')!;
    expect(run.parentSpanContext).toBeUndefined();
    expect(run.spanContext().traceId).not.toBe(post.spanContext().traceId);
    expect(run.links.map((l) => l.context.spanId)).toEqual([post.spanContext().spanId]);
  });
});
