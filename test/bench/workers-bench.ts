// Worker figures for npm run bench: the combined records a second of 1, 2 and 4 `credport worker`
// processes taking the same 8 syncs (distinct credentials, the rate limit off) from one queue,
// with one PostgreSQL store and one Redis, as on several machines.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { openSyncQueue } from '../../src/queue/sync-queue.js';
import { randomMasterKey } from '../helpers/temp-home.js';
import { ensurePostgres, ensureRedis, freshPostgresUri, freshRedisUri } from '../helpers/test-servers.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const SYNCS = 8;

function startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--json'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('"ready"') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited ${code}`)));
  });
}

export async function workersBench(home: string, records: number, latencyMs: number): Promise<{ workers: number; rps: number }[]> {
  await ensurePostgres();
  await ensureRedis();
  const tokens = Array.from({ length: SYNCS }, (_, i) => `bench_worker_token_${i}_abcdefghijkl`);
  const emulator = await new FrontEmulator({ records, tokens, latencyMs }).start();
  const store = await freshPostgresUri();
  const masterKey = randomMasterKey();
  const credport = await openCredport({ home, storeUri: store, masterKey, env: {} });
  const pairs: { source: string; destination: string }[] = [];
  for (let i = 0; i < SYNCS; i++) {
    const tile = await credport.credentials.create({
      connector: 'front',
      values: { name: `c${i}`, apiKey: tokens[i]! },
      baseUrl: emulator.url,
      verify: false,
    });
    const source = await credport.configs.addSource({ name: `s${i}`, connector: 'front', credentialId: tile.id, streams: ['contacts'] });
    const destination = await credport.configs.addDestination({ name: `d${i}`, connector: 'jsonl', path: join(home, `out-${i}`) });
    pairs.push({ source: source.id, destination: destination.id });
  }
  await credport.close();
  const rows: { workers: number; rps: number }[] = [];
  for (const count of [1, 2, 4]) {
    const redis = await freshRedisUri();
    const env = { CREDPORT_HOME: home, CREDPORT_STORE: store, CREDPORT_MASTER_KEY: masterKey, CREDPORT_QUEUE: redis };
    const workers = await Promise.all(Array.from({ length: count }, () => startWorker(env)));
    const queue = await openSyncQueue(redis);
    const started = performance.now();
    const jobs = await Promise.all(
      pairs.map((p) => queue.enqueue({ sourceId: p.source, destinationId: p.destination, fullRefresh: true })),
    );
    const summaries = await Promise.all(jobs.map((job) => queue.follow(job, () => undefined)));
    const seconds = (performance.now() - started) / 1000;
    if (summaries.some((s) => s.records !== records)) throw new Error('a sync did not write every record');
    rows.push({ workers: count, rps: (SYNCS * records) / seconds });
    await queue.close();
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('exit', resolve))));
  }
  await emulator.stop();
  return rows;
}
