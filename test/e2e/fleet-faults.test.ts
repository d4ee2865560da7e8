import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { openSyncQueue } from '../../src/queue/sync-queue.js';
import { CLI, runCli } from '../helpers/run-cli.js';
import { killLeftWorkers, startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';
import { startServe } from '../helpers/serve.js';
import { cpuSeconds, OwnPostgres, OwnRedis } from '../helpers/own-servers.js';
import { randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';
import { ensurePostgres, freshPostgresUri } from '../helpers/test-servers.js';

/**
 * The fleet when its own servers go away: workers, followers and the queue against a Redis and a
 * PostgreSQL that the tests kill and start again (their own, on loopback: the shared test servers
 * are never stopped). The invariants: every job ends without a manual step, no record is lost or
 * doubled, no process spins or hangs.
 */
let home: string;
const started: ChildProcess[] = [];
const redises: OwnRedis[] = [];
beforeAll(async () => {
  home = await tempHome();
  await ensurePostgres();
});
afterAll(async () => {
  killLeftWorkers();
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const redis of redises) await redis.stop();
  await removeHome(home);
});

const startWorker = (env: NodeJS.ProcessEnv, args: string[] = []) => startWorkerProcess(env, { args });

/** One store and one Front credential on the emulator; a source of `records` contacts and a JSONL destination for each of `count`. */
async function fleet(emulator: FrontEmulator, storeUri: string, queue: string, count: number, extraEnv: Record<string, string> = {}) {
  const env = { CREDPORT_HOME: home, CREDPORT_STORE: storeUri, CREDPORT_MASTER_KEY: randomMasterKey(), CREDPORT_QUEUE: queue, ...extraEnv };
  const credport = await openCredport({ home, storeUri, masterKey: env.CREDPORT_MASTER_KEY, env: {} });
  const tile = await credport.credentials.create({
    connector: 'front',
    values: { name: 'fleet key', apiKey: [...emulator.tokens][0]! },
    baseUrl: emulator.url,
    verify: false,
  });
  const pairs: { source: string; destination: string; out: string }[] = [];
  const tag = Math.random().toString(36).slice(2, 8);
  for (let i = 0; i < count; i++) {
    const source = await credport.configs.addSource({ name: `s${i}`, connector: 'front', credentialId: tile.id, streams: ['contacts'] });
    const out = join(home, `${tag}-${i}`);
    const destination = await credport.configs.addDestination({ name: `d${i}`, connector: 'jsonl', path: out });
    pairs.push({ source: source.id, destination: destination.id, out });
  }
  await credport.close();
  return { env, pairs };
}

async function enqueue(env: NodeJS.ProcessEnv, pair: { source: string; destination: string }): Promise<string> {
  const queued = await runCli(['sync', pair.source, '--to', pair.destination, '--detach', '--json'], { env });
  expect({ code: queued.code, stderr: queued.stderr }).toEqual({ code: 0, stderr: '' });
  return (JSON.parse(queued.stdout) as { job: string }).job;
}

/** Every contact exactly once in the destination's file. */
async function expectEveryRecordOnce(out: string, records: number): Promise<void> {
  const ids = (await readFile(join(out, 'contacts.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { id: string }).id);
  expect(new Set(ids).size).toBe(records);
  expect(ids).toHaveLength(records);
}

/** CPU a process uses over `ms` while it should be idle, as a share of one core. */
async function idleCpuShare(pid: number, ms: number): Promise<number> {
  const before = cpuSeconds(pid);
  await sleep(ms);
  return (cpuSeconds(pid) - before) / (ms / 1000);
}

const jobsOf = (worker: WorkerProcess, event: string) => worker.lines.filter((l) => l.event === event).map((l) => l.job as string);

describe('the fleet rides out its own servers going away', () => {
  it('Redis killed (kill -9) and started again under running syncs: with persistence every worker reconnects and every job finishes once; idle workers use no CPU; SIGTERM ends each within its grace', async () => {
    const redis = await OwnRedis.start(home, { persist: true });
    redises.push(redis);
    const RECORDS = 6_000;
    const emulator = await new FrontEmulator({ records: RECORDS, latencyMs: 25 }).start();
    const { env, pairs } = await fleet(emulator, await freshPostgresUri(), redis.url, 6);
    const workers = [await startWorker(env, ['--grace', '5s']), await startWorker(env, ['--grace', '5s'])];
    const jobs = [];
    for (const pair of pairs) jobs.push(await enqueue(env, pair));
    while (emulator.stats.pages < 20) await sleep(5);
    await redis.kill();
    await sleep(2_000);
    await redis.start();

    const queue = await openSyncQueue(redis.url);
    try {
      const summaries = await Promise.all(jobs.map((job) => queue.follow(job, () => undefined)));
      expect(summaries).toHaveLength(6);
    } finally {
      await queue.close();
    }
    for (const pair of pairs) await expectEveryRecordOnce(pair.out, RECORDS);
    for (const worker of workers) {
      // Each said it lost the queue and got it back.
      const said = worker.lines.filter((l) => l.event === 'connection' && String(l.server).startsWith('the queue')).map((l) => l.state);
      expect({ said, lines: worker.lines.length, stderr: worker.stderr() }).toMatchObject({ said: ['down', 'up'] });
    }
    expect(workers.flatMap((w) => jobsOf(w, 'failed'))).toEqual([]);
    expect(new Set(workers.flatMap((w) => jobsOf(w, 'finished')))).toEqual(new Set(jobs));

    // Idle after a restart: waiting on Redis, not spinning (the fault run found one at 100% of a core).
    for (const worker of workers) expect(await idleCpuShare(worker.child.pid!, 2_000)).toBeLessThan(0.5);
    for (const worker of workers) worker.child.kill('SIGTERM');
    expect(await Promise.race([Promise.all(workers.map((w) => w.exited)), sleep(5_000 + 5_000, 'still running')])).toEqual([0, 0]);
    await emulator.stop();
  }, 120_000);

  it('a follower whose job a Redis restart lost (no persistence) exits 5 naming the job and what its worker last said; the worker says it finished a job the queue no longer holds', async () => {
    const redis = await OwnRedis.start(home, { persist: false });
    redises.push(redis);
    const RECORDS = 20_000;
    const emulator = await new FrontEmulator({ records: RECORDS, latencyMs: 25 }).start();
    const { env, pairs } = await fleet(emulator, await freshPostgresUri(), redis.url, 1);
    const worker = await startWorker(env);
    const follower = spawn(process.execPath, [CLI, 'sync', pairs[0]!.source, '--to', pairs[0]!.destination], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(follower);
    let said = '';
    follower.stderr.on('data', (d: Buffer) => (said += d.toString()));
    const followerExit = new Promise<number | null>((resolve) => follower.once('exit', resolve));
    while (emulator.stats.pages < 20) await sleep(5);
    await redis.kill();
    await redis.start(); // empty: the job and its records are gone

    expect(await Promise.race([followerExit, sleep(20_000, 'still following')])).toBe(5);
    const job = /queued as (sync_[0-9a-f]+)/.exec(said)![1]!;
    expect(said).toContain(`sync job ${job} is no longer on the queue`);
    expect(said).toMatch(/its worker last reported "(page|checkpoint)" of contacts \(\d+ records/);
    // The worker went on with the sync (the store holds its checkpoints), and says what happened.
    while (!worker.lines.some((l) => l.event === 'finished')) await sleep(50);
    expect(worker.lines.find((l) => l.event === 'finished')).toMatchObject({ job, lost: true, records: RECORDS });
    await expectEveryRecordOnce(pairs[0]!.out, RECORDS);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    await emulator.stop();
  }, 120_000);

  it('Redis away longer than CREDPORT_RETRY_FOR: an idle worker waits without spinning, then exits 5 naming the server; a busy one stopped by SIGTERM meanwhile exits within its grace', async () => {
    const redis = await OwnRedis.start(home, { persist: false });
    redises.push(redis);
    const emulator = await new FrontEmulator({ records: 20_000, latencyMs: 25 }).start();
    // Two pairs: the busy worker writes the first's destination, the API's sync goes to the second
    // (a sync to a destination another process is writing is refused 409 at once, before the queue).
    const { env, pairs } = await fleet(emulator, await freshPostgresUri(), redis.url, 2);
    const busy = await startWorker(env, ['--grace', '2s']);
    await enqueue(env, pairs[0]!);
    while (emulator.stats.pages < 10) await sleep(5);
    const idle = await startWorker({ ...env, CREDPORT_RETRY_FOR: '4s' });
    const token = 'api-token-for-the-fault-test-0123456789';
    // serve's bound is longer than the idle worker's: it must still answer while the test reads the failed sync.
    const served = await startServe({ home, env: { ...env, CREDPORT_RETRY_FOR: '10s', CREDPORT_API_TOKEN: token } });
    await redis.kill();
    expect(await idleCpuShare(idle.child.pid!, 2_000)).toBeLessThan(0.5);

    // serve: a sync started meanwhile fails by name at once; past the bound serve stops, naming the server.
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${served.url}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    const answer = await api('/syncs', {
      method: 'POST',
      body: JSON.stringify({ source: pairs[1]!.source, destination: pairs[1]!.destination }),
    });
    expect(answer.status).toBe(202);
    const posted = (await answer.json()) as { id: string };
    let job = { status: 'running', error: {} };
    while (job.status === 'running') job = (await (await api(`/syncs/${posted.id}`)).json()) as typeof job;
    expect(job).toMatchObject({ status: 'failed', error: { code: 'queue_unavailable', exitCode: 5 } });
    expect(await Promise.race([served.exited, sleep(20_000, 'still running')])).toBe(5);
    expect(served.output()).toContain(`lost the queue (CREDPORT_QUEUE ${redis.url})`);
    const idleExit = await Promise.race([idle.exited, sleep(15_000, 'still running')]);
    expect({ idleExit, lines: idle.lines, stderr: idle.stderr() }).toMatchObject({ idleExit: 5 });
    expect(idle.stderr()).toContain(`lost the queue (CREDPORT_QUEUE ${redis.url})`);
    expect(idle.stderr()).toContain('did not come back within CREDPORT_RETRY_FOR');
    expect(idle.lines.find((l) => typeof l.error === 'object')).toMatchObject({ error: { code: 'queue_unavailable', exitCode: 5 } });

    // The busy worker's sync stops at a checkpoint, but the queue to hand it back to is gone: it waits its grace, then exits.
    busy.child.kill('SIGTERM');
    expect(await Promise.race([busy.exited, sleep(2_000 + 5_000, 'still running')])).toBe(5);
    expect(busy.stderr()).toContain('stopped waiting after 2 s');
    await emulator.stop();
  }, 60_000);

  it('PostgreSQL stopped for 90 s under running syncs: the jobs go back on the queue and back off, and every one finishes once it returns, with nothing lost or doubled and no manual step', async () => {
    const postgres = await OwnPostgres.create();
    const redis = await OwnRedis.start(home, { persist: false });
    redises.push(redis);
    try {
      const RECORDS = 6_000;
      const emulator = await new FrontEmulator({ records: RECORDS, latencyMs: 25 }).start();
      const { env, pairs } = await fleet(emulator, postgres.url, redis.url, 4);
      const workers = [await startWorker(env), await startWorker(env)];
      const jobs = [];
      for (const pair of pairs) jobs.push(await enqueue(env, pair));
      while (emulator.stats.pages < 20) await sleep(5);
      postgres.stopNow();
      await sleep(90_000);
      await postgres.start();

      const queue = await openSyncQueue(redis.url);
      try {
        await Promise.all(jobs.map((job) => queue.follow(job, () => undefined)));
      } finally {
        await queue.close();
      }
      for (const pair of pairs) await expectEveryRecordOnce(pair.out, RECORDS);
      const lines = workers.flatMap((w) => w.lines);
      // The outage was met, and waited out: tried again with a growing delay, never failed for good.
      const outageTries = lines.filter((l) => l.event === 'returned' && (l.error as { code: string }).code === 'store_unavailable');
      expect(outageTries.length).toBeGreaterThan(0);
      expect(Math.max(...outageTries.map((l) => l.retryInMs as number))).toBeGreaterThanOrEqual(20_000);
      expect(lines.filter((l) => l.event === 'failed')).toEqual([]);
      expect(new Set(jobsOf(workers[0]!, 'finished').concat(jobsOf(workers[1]!, 'finished')))).toEqual(new Set(jobs));
      for (const worker of workers) worker.child.kill('SIGTERM');
      expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
      await emulator.stop();
    } finally {
      postgres.drop();
    }
  }, 300_000);
});
