import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { join } from 'node:path';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { type Credport, openCredport } from '../../src/open-credport.js';
import { recordSpans, serialised, type SpanRecorder } from '../helpers/span-recorder.js';
import { fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';

// issue 27: the traces of one sync form one tree (the run, its streams, their provider requests)
// with the counts the provider saw, and a verification is a span with its outcome; no span holds a
// secret, an id or a URL's query. Against the Front emulator with the SDK's in-memory exporter.

const RECORDS = 250; // Front's contacts and tags pages hold 100: three pages a stream
const STREAMS = ['contacts', 'tags'];
const MASTER_KEY = randomMasterKey();

let recorder: SpanRecorder;
let home: string;
let credport: Credport;
let emulator: FrontEmulator;
const apiKey = fakeToken('traces');

beforeAll(() => {
  recorder = recordSpans();
});
afterAll(() => recorder.stop());
beforeEach(async () => {
  home = await tempHome();
  credport = await openCredport({ home, env: { CREDPORT_MASTER_KEY: MASTER_KEY, CREDPORT_HTTP_RETRIES: '3' } });
});
afterEach(async () => {
  await credport.close();
  await emulator?.stop();
  await removeHome(home);
  recorder.reset();
});

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('the traces of one sync', () => {
  it('form one tree: run, streams, provider requests, with the counts the provider saw and no secret', async () => {
    // The first request is refused with a burst 429 (wait 150 ms): one request is sent twice.
    emulator = await new FrontEmulator({
      tokens: [apiKey],
      records: RECORDS,
      firstAnswers: [{ status: 429, message: 'Burst limit reached. Please retry in 150 milliseconds.', headers: { 'retry-after': '150' } }],
    }).start();
    const tile = await credport.credentials.create({
      connector: 'front',
      values: { name: 'Front', apiKey },
      baseUrl: emulator.url,
      verify: false,
    });
    const source = await credport.configs.addSource({ name: 'Front', connector: 'front', credentialId: tile.id, streams: STREAMS });
    const destination = await credport.configs.addDestination({ name: 'Files', connector: 'jsonl', path: join(home, 'out') });
    recorder.reset();

    const summary = await credport.syncs.run(source.id, destination.id);
    expect(summary.records).toBe(RECORDS * STREAMS.length);
    const spans = recorder.spans();

    const runs = named(spans, 'credport.sync');
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(parentOf(run)).toBeUndefined();
    expect(run.attributes).toMatchObject({
      'credport.connector': 'front',
      'credport.destination_connector': 'jsonl',
      'credport.outcome': 'succeeded',
      'credport.records': RECORDS * STREAMS.length,
    });

    const streams = named(spans, 'credport.sync.stream');
    expect(streams.map((s) => s.attributes['credport.stream']).sort()).toEqual(STREAMS);
    for (const stream of streams) {
      expect(parentOf(stream)).toBe(run.spanContext().spanId);
      expect(stream.attributes).toMatchObject({ 'credport.connector': 'front', 'credport.records': RECORDS, 'credport.pages': 3 });
    }

    const requests = spans.filter((s) => s.kind === SpanKind.CLIENT);
    const streamIds = new Map(streams.map((s) => [s.spanContext().spanId, s.attributes['credport.stream']]));
    for (const request of requests) {
      // Each request under the stream it read, and naming that stream.
      expect(streamIds.get(parentOf(request)!)).toBe(request.attributes['credport.stream']);
      expect(request.attributes).toMatchObject({
        'credport.connector': 'front',
        'http.request.method': 'GET',
        'http.response.status_code': 200,
      });
    }
    // One span a page; with the one resend, every request the emulator answered.
    expect(requests).toHaveLength(6);
    const resent = requests.map((r) => r.attributes['http.request.resend_count']);
    expect(resent.filter((n) => n === 1)).toHaveLength(1);
    expect(resent.filter((n) => n === 0)).toHaveLength(5);
    expect(requests.length + 1).toBe(emulator.requests);

    expect(spans).toHaveLength(1 + streams.length + requests.length);
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);

    const text = serialised(spans);
    for (const secret of [apiKey, MASTER_KEY, 'Bearer', 'authorization', tile.id, source.id, destination.id, emulator.url, home])
      expect([secret, text.includes(secret)]).toEqual([secret, false]);
    expect(text).not.toContain('?');
  });
});

describe('a failed sync', () => {
  it('ends its run, stream and request spans as ERROR with the error code only, never the provider message', async () => {
    // Every token revoked from the first request on: the stream's first page is a 401.
    emulator = await new FrontEmulator({ tokens: [apiKey], records: RECORDS, revokeAfter: 0 }).start();
    const tile = await credport.credentials.create({
      connector: 'front',
      values: { name: 'Front', apiKey },
      baseUrl: emulator.url,
      verify: false,
    });
    const source = await credport.configs.addSource({ name: 'Front', connector: 'front', credentialId: tile.id, streams: ['tags'] });
    const destination = await credport.configs.addDestination({ name: 'Files', connector: 'jsonl', path: join(home, 'out') });
    recorder.reset();
    await expect(credport.syncs.run(source.id, destination.id)).rejects.toMatchObject({ code: 'provider_rejected' });
    const spans = recorder.spans();
    expect(spans.map((s) => [s.name, s.status, s.attributes['error.type']]).sort()).toEqual([
      ['GET', { code: 2, message: 'provider_rejected' }, 'provider_rejected'],
      ['credport.sync', { code: 2, message: 'provider_rejected' }, 'provider_rejected'],
      ['credport.sync.stream', { code: 2, message: 'provider_rejected' }, 'provider_rejected'],
    ]);
    expect(named(spans, 'credport.sync')[0]!.attributes['credport.outcome']).toBe('failed');
    expect(named(spans, 'GET')[0]!.attributes['http.response.status_code']).toBe(401);
    const text = serialised(spans);
    for (const said of ['Invalid or missing API token', 'Unauthenticated', apiKey])
      expect([said, text.includes(said)]).toEqual([said, false]);
  });
});

describe('a verification span', () => {
  it('names the connector and the outcome, ok and refused, with its provider request below it', async () => {
    emulator = await new FrontEmulator({ tokens: [apiKey] }).start();
    const badKey = fakeToken('refused');
    await credport.credentials.create({ connector: 'front', values: { name: 'Good', apiKey }, baseUrl: emulator.url });
    await expect(
      credport.credentials.create({ connector: 'front', values: { name: 'Bad', apiKey: badKey }, baseUrl: emulator.url }),
    ).rejects.toMatchObject({ code: 'provider_rejected' });
    const spans = recorder.spans();
    const verifications = named(spans, 'credport.verification');
    expect(verifications.map((v) => v.attributes)).toEqual([
      { 'credport.connector': 'front', 'credport.outcome': 'ok' },
      { 'credport.connector': 'front', 'credport.outcome': 'refused', 'error.type': 'provider_rejected' },
    ]);
    expect(verifications[1]!.status).toEqual({ code: 2, message: 'provider_rejected' });
    for (const verification of verifications) {
      expect(parentOf(verification)).toBeUndefined();
      const below = spans.filter((s) => parentOf(s) === verification.spanContext().spanId);
      expect(below.map((s) => [s.kind, s.attributes['credport.connector'], s.spanContext().traceId])).toEqual([
        [SpanKind.CLIENT, 'front', verification.spanContext().traceId],
      ]);
    }
    expect(named(spans, 'GET').map((s) => s.attributes['http.response.status_code'])).toEqual([200, 401]);
    const text = serialised(spans);
    for (const secret of [apiKey, badKey, MASTER_KEY, 'Bearer', emulator.url])
      expect([secret, text.includes(secret)]).toEqual([secret, false]);
  });
});
