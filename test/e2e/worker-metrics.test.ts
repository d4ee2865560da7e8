import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { OwnRedis } from '../helpers/own-servers.js';
import { promtoolCheck, total } from '../helpers/prometheus-text.js';
import { runCli } from '../helpers/run-cli.js';
import { randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';
import { killLeftWorkers, startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';

// issue 27: `credport worker --metrics-port` after one queued sync passes `promtool check metrics`
// and counts the run; its /readyz turns failing when the queue's Redis or the store (a Redis of
// this test's own: the shared test servers are never stopped) goes away, and ok when it is back,
// while /healthz stays ok.

const RECORDS = 120;
let home: string;
let queue: OwnRedis;
let store: OwnRedis;
let emulator: FrontEmulator;
let worker: WorkerProcess;
let metricsUrl: string;
let env: NodeJS.ProcessEnv;
let pair: { source: string; destination: string };

beforeAll(async () => {
  home = await tempHome();
  queue = await OwnRedis.start(home, { persist: false });
  // The store's Redis keeps its data across the stop (fsync'd append-only file), as a store's must.
  store = await OwnRedis.start(home, { persist: true });
  emulator = await new FrontEmulator({ records: RECORDS }).start();
  env = { CREDPORT_HOME: home, CREDPORT_STORE: store.url, CREDPORT_MASTER_KEY: randomMasterKey(), CREDPORT_QUEUE: queue.url };
  const credport = await openCredport({ home, storeUri: store.url, masterKey: env.CREDPORT_MASTER_KEY, env: {} });
  const tile = await credport.credentials.create({
    connector: 'front',
    values: { name: 'worker metrics key', apiKey: [...emulator.tokens][0]! },
    baseUrl: emulator.url,
    verify: false,
  });
  const source = await credport.configs.addSource({ name: 'wm source', connector: 'front', credentialId: tile.id, streams: ['contacts'] });
  const destination = await credport.configs.addDestination({ name: 'wm files', connector: 'jsonl' });
  pair = { source: source.id, destination: destination.id };
  await credport.close();
  worker = await startWorkerProcess(env, { args: ['--metrics-port', '0'] });
  metricsUrl = String(worker.lines.find((l) => l.event === 'ready')!.metricsUrl);
}, 30_000);

afterAll(async () => {
  await worker?.stop();
  killLeftWorkers();
  await queue?.stop();
  await store?.stop();
  await emulator?.stop();
  await removeHome(home);
});

const probe = async (path: string) => {
  const answer = await fetch(`${metricsUrl}${path}`).catch(() => undefined);
  return answer ? `${answer.status} ${(await answer.text()).trim()}` : 'no answer';
};

/** Polls a probe until it says `want`, for up to `ms`; answers what it said last. */
async function until(path: string, want: string, ms: number): Promise<string> {
  let said = '';
  for (const started = Date.now(); Date.now() - started < ms; await sleep(100)) {
    said = await probe(path);
    if (said === want) break;
  }
  return said;
}

describe('worker --metrics-port', () => {
  it('after one queued sync: promtool accepts the scrape, and it counts the run, its records and the queue', async () => {
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const queued = await runCli(['sync', pair.source, '--to', pair.destination, '--detach', '--json'], { env });
    expect({ code: queued.code, stderr: queued.stderr }).toEqual({ code: 0, stderr: '' });
    for (let i = 0; i < 300 && !worker.lines.some((l) => l.event === 'finished'); i++) await sleep(50);
    expect(worker.lines.find((l) => l.event === 'finished')).toMatchObject({ records: RECORDS });

    const text = await (await fetch(`${metricsUrl}/metrics`)).text();
    expect(promtoolCheck(text)).toEqual({ code: 0, said: '' });
    expect(total(text, 'credport_sync_runs_total', { outcome: 'succeeded' })).toBe(1);
    expect(total(text, 'credport_sync_records_total', { connector: 'front', stream: 'contacts', direction: 'read' })).toBe(RECORDS);
    expect(total(text, 'credport_provider_requests_total', { connector: 'front', status_class: '2xx' })).toBe(emulator.requests);
    expect(total(text, 'credport_queue_jobs', { state: 'completed' })).toBe(1);
    expect(total(text, 'credport_queue_jobs', { state: 'active' })).toBe(0);
    expect(total(text, 'credport_syncs_running')).toBe(0);
    for (const value of [pair.source, pair.destination, emulator.url, queue.url, store.url, 'wm source', 'wm files'])
      expect([value, text.includes(value)]).toEqual([value, false]);
  }, 30_000);

  it('/readyz: failing within seconds of the queue or the store stopping, ok once it is back; /healthz ok throughout', async () => {
    expect([await probe('/healthz'), await probe('/readyz')]).toEqual(['200 ok', '200 ok']);
    for (const server of [queue, store]) {
      await server.kill();
      expect(await until('/readyz', '503 failing', 5_000)).toBe('503 failing');
      expect(await probe('/healthz')).toBe('200 ok');
      await server.start();
      expect(await until('/readyz', '200 ok', 10_000)).toBe('200 ok');
      expect(await probe('/healthz')).toBe('200 ok');
    }
  }, 60_000);
});
