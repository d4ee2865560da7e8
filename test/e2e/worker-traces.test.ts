import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { startCollector } from '../helpers/otlp-collector.js';
import { OwnRedis } from '../helpers/own-servers.js';
import { runCli } from '../helpers/run-cli.js';
import { fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';
import { killLeftWorkers, startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';

// issue 27: a real `credport worker` with OTEL_EXPORTER_OTLP_ENDPOINT exports one queued sync as one
// trace: the run (a root), its streams below it, each provider request below its stream, a 429's
// resend on its request; flushed when the worker stops; no secret, id or query in any of it.

const RECORDS = 150; // two pages a stream (Front's pages hold 100)
const OTLP_CLIENT = 3; // SPAN_KIND_CLIENT in OTLP JSON
const MASTER_KEY = randomMasterKey();
const apiKey = fakeToken('worker-otlp');
let home: string;
let queue: OwnRedis;
let emulator: FrontEmulator;
let collector: Awaited<ReturnType<typeof startCollector>>;
let worker: WorkerProcess;
let env: NodeJS.ProcessEnv;
let ids: string[];

beforeAll(async () => {
  home = await tempHome();
  queue = await OwnRedis.start(home, { persist: false });
  emulator = await new FrontEmulator({
    tokens: [apiKey],
    records: RECORDS,
    firstAnswers: [{ status: 429, message: 'Burst limit reached. Please retry in 150 milliseconds.', headers: { 'retry-after': '150' } }],
  }).start();
  collector = await startCollector();
  env = { CREDPORT_HOME: home, CREDPORT_MASTER_KEY: MASTER_KEY, CREDPORT_QUEUE: queue.url };
  const credport = await openCredport({ home, masterKey: MASTER_KEY, env: {} });
  const tile = await credport.credentials.create({
    connector: 'front',
    values: { name: 'wt key', apiKey },
    baseUrl: emulator.url,
    verify: false,
  });
  const source = await credport.configs.addSource({
    name: 'wt source',
    connector: 'front',
    credentialId: tile.id,
    streams: ['contacts', 'tags'],
  });
  const destination = await credport.configs.addDestination({ name: 'wt files', connector: 'jsonl' });
  ids = [tile.id, source.id, destination.id];
  await credport.close();
  worker = await startWorkerProcess({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '60000' });
}, 30_000);

afterAll(async () => {
  await worker?.stop();
  killLeftWorkers();
  await queue?.stop();
  await collector?.close();
  await emulator?.stop();
  await removeHome(home);
});

describe('worker with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('exports a queued sync as one tree: run, streams, provider requests, with no secret', async () => {
    const queued = await runCli(['sync', ids[1]!, '--to', ids[2]!, '--detach', '--json'], { env });
    expect({ code: queued.code, stderr: queued.stderr }).toEqual({ code: 0, stderr: '' });
    for (let i = 0; i < 300 && !worker.lines.some((l) => l.event === 'finished'); i++) await sleep(50);
    expect(worker.lines.find((l) => l.event === 'finished')).toMatchObject({ records: RECORDS * 2 });
    // The batch waits a minute: only the flush on SIGTERM sends it.
    expect(collector.exports).toEqual([]);
    expect(await worker.stop()).toBe(0);

    const spans = collector.spans();
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['credport-worker']));
    const runs = spans.filter((s) => s.name === 'credport.sync');
    expect(runs.map((r) => [r.parentSpanId, r.attributes['credport.outcome'], r.attributes['credport.records']])).toEqual([
      [undefined, 'succeeded', RECORDS * 2],
    ]);
    const run = runs[0]!;
    const streams = spans.filter((s) => s.name === 'credport.sync.stream');
    expect(streams.map((s) => [s.parentSpanId, s.attributes['credport.stream'], s.attributes['credport.pages']]).sort()).toEqual([
      [run.spanId, 'contacts', 2],
      [run.spanId, 'tags', 2],
    ]);
    const requests = spans.filter((s) => s.kind === OTLP_CLIENT);
    const streamIds = new Set(streams.map((s) => s.spanId));
    expect(requests.filter((r) => !streamIds.has(r.parentSpanId!))).toEqual([]);
    expect(requests).toHaveLength(4);
    expect(requests.map((r) => r.attributes['http.request.resend_count']).sort()).toEqual([0, 0, 0, 1]);
    expect(requests.length + 1).toBe(emulator.requests);
    expect(spans).toHaveLength(1 + 2 + 4);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([run.traceId]));

    const text = collector.exports.map((e) => e.body).join('\n');
    for (const secret of [apiKey, MASTER_KEY, 'Bearer', emulator.url, queue.url, 'wt source', ...ids])
      expect([secret, text.includes(secret)]).toEqual([secret, false]);
    expect(text).not.toContain('?');
  }, 30_000);
});
