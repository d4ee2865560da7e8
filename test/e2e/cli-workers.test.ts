import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { openSyncQueue } from '../../src/queue/sync-queue.js';
import { runCli } from '../helpers/run-cli.js';
import { startWorkerProcess } from '../helpers/worker-process.js';
import { startServe } from '../helpers/serve.js';
import { randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';
import { ensurePostgres, ensureRedis, freshPostgresUri, freshRedisUri } from '../helpers/test-servers.js';

/**
 * Syncs as jobs: `credport sync --detach` puts them on a BullMQ queue in Redis, `credport worker`
 * processes take them; one store (PostgreSQL) and one Redis for all, as on several machines.
 */
const SOURCES = 20;
const R = 30; // requests a window of the one Front credential every source uses
const WINDOW_MS = 1_000;
const RECORDS = 1_000; // contacts: 10 pages a sync

let home: string;
const workers: ChildProcess[] = [];
/** Each worker's --json lines: which jobs it started and finished. */
const reports: { event: string; job: string; pid: number }[] = [];
beforeAll(async () => {
  home = await tempHome();
  await ensurePostgres();
  await ensureRedis();
});
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await removeHome(home);
});

async function startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const worker = await startWorkerProcess(env, {
    onLine: (line, pid) => line.event !== 'ready' && reports.push({ ...(line as { event: string; job: string }), pid }),
  });
  workers.push(worker.child);
  return worker.child;
}

/** One store, one queue and one Front credential on the emulator; a source and a JSONL destination for each entry. */
async function onQueue(
  emulator: FrontEmulator,
  wanted: { streams: string[]; out: string }[],
  extraEnv: (redis: string) => Record<string, string> = () => ({}),
  workspace = 'default',
) {
  const redis = await freshRedisUri();
  const env = {
    CREDPORT_HOME: home,
    CREDPORT_STORE: await freshPostgresUri(),
    CREDPORT_MASTER_KEY: randomMasterKey(),
    CREDPORT_QUEUE: redis,
    ...extraEnv(redis),
  };
  const credport = await openCredport({
    home,
    storeUri: env.CREDPORT_STORE,
    masterKey: env.CREDPORT_MASTER_KEY,
    env: {},
    access: { workspace, role: 'admin' },
  });
  const tile = await credport.credentials.create({
    connector: 'front',
    values: { name: 'one company key', apiKey: [...emulator.tokens][0]! },
    baseUrl: emulator.url,
    verify: false,
  });
  const pairs: { source: string; destination: string; out: string }[] = [];
  for (const [i, { streams, out }] of wanted.entries()) {
    const source = await credport.configs.addSource({ name: `s${i}`, connector: 'front', credentialId: tile.id, streams });
    const destination = await credport.configs.addDestination({ name: `d${i}`, connector: 'jsonl', path: join(home, out) });
    pairs.push({ source: source.id, destination: destination.id, out: join(home, out) });
  }
  await credport.close();
  return { env, redis, pairs };
}

describe('syncs on a queue, run by four workers sharing one store, one Redis and one credential', () => {
  it('lands every record exactly once within the rate limit, and a worker killed with kill -9 has its job finished by another', async () => {
    const emulator = await new FrontEmulator({ records: RECORDS, rateLimit: R, rateWindowMs: WINDOW_MS, latencyMs: 40 }).start();
    const { env, redis, pairs } = await onQueue(
      emulator,
      Array.from({ length: SOURCES }, (_, i) => ({ streams: ['contacts'], out: `out-${i}` })),
      (url) => ({ CREDPORT_REDIS: url, CREDPORT_QUEUE_LOCK_MS: '1500', CREDPORT_HTTP_RETRIES: '5' }),
    );

    const jobs: string[] = [];
    for (const p of pairs) {
      const queued = await runCli(['sync', p.source, '--to', p.destination, '--detach', '--json'], { env });
      expect(queued.code).toBe(0);
      jobs.push((JSON.parse(queued.stdout) as { job: string }).job);
    }
    for (let i = 0; i < 4; i++) await startWorker(env);
    // Mid-sync: the first worker dies without a word, holding a job.
    const killed = workers[0]!.pid;
    const running = () =>
      reports
        .filter((r) => r.pid === killed && r.event === 'started')
        .map((r) => r.job)
        .find((job) => !reports.some((r) => r.job === job && r.event !== 'started'));
    while (emulator.stats.pages < 30 || running() === undefined) await sleep(5);
    workers[0]!.kill('SIGKILL');
    const orphan = running()!;

    const queue = await openSyncQueue(redis);
    try {
      const summaries = await Promise.all(jobs.map((job) => queue.follow(job, () => undefined)));
      expect(summaries.every((s) => s.records >= 0)).toBe(true);
    } finally {
      await queue.close();
    }
    const stats = { ...emulator.stats };
    await emulator.stop();
    for (const p of pairs) {
      const ids = (await readFile(join(p.out, 'contacts.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { id: string }).id);
      expect(ids).toHaveLength(RECORDS);
      expect(new Set(ids).size).toBe(RECORDS);
    }
    // The dead worker's job was started again by another worker, and finished there.
    expect(reports.filter((r) => r.job === orphan && r.event === 'started').length).toBeGreaterThanOrEqual(2);
    expect(reports.find((r) => r.job === orphan && r.event === 'finished')?.pid).not.toBe(killed);
    expect(reports.filter((r) => r.event === 'finished')).toHaveLength(SOURCES);
    // One budget for all four workers: the provider had to refuse a handful of requests at most.
    expect(stats.rateLimited).toBeLessThanOrEqual(5);
    for (const w of workers.slice(1)) w.kill('SIGTERM');
    await Promise.all(
      workers.slice(1).map((w) => new Promise((resolve) => (w.exitCode !== null ? resolve(null) : w.once('exit', resolve)))),
    );
    expect(workers.slice(1).map((w) => w.exitCode)).toEqual([0, 0, 0]);
  }, 120_000);

  it('runs `credport sync` through a worker and follows it to the same summary line', async () => {
    const emulator = await new FrontEmulator({ records: 120 }).start();
    // In a workspace of its own: the job carries it to the worker, which has none set.
    const { env, pairs } = await onQueue(emulator, [{ streams: ['tags'], out: 'followed' }], () => ({}), 'acme');
    const { source, destination } = pairs[0]!;
    const worker = await startWorker(env);
    const followed = await runCli(['sync', source, '--to', destination, '--workspace', 'acme'], { env });
    expect(followed.code).toBe(0);
    expect(followed.stderr).toMatch(/queued as sync_[0-9a-f]{16}; a worker runs it/);
    expect(followed.stdout).toContain('synced 120 records');
    const refused = await runCli(['sync', source, '--to', destination, '--streams', 'nope', '--workspace', 'acme'], { env });
    expect(refused.code).toBe(2); // checked before it is queued
    const elsewhere = await runCli(['sync', source, '--to', destination], { env }); // the default workspace has no such source
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain(`no source ${source}`);
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));
    await emulator.stop();
  }, 60_000);

  it('on SIGTERM a worker stops its sync after a checkpoint and puts it back; another worker finishes it, nothing lost or doubled', async () => {
    const emulator = await new FrontEmulator({ records: 3_000, latencyMs: 30 }).start();
    const { env, redis, pairs } = await onQueue(emulator, [{ streams: ['contacts'], out: 'stopped' }], () => ({
      CREDPORT_QUEUE_LOCK_MS: '1500',
    }));
    const { source, destination, out } = pairs[0]!;
    const first = await startWorker(env);
    const queued = await runCli(['sync', source, '--to', destination, '--detach', '--json'], { env });
    const job = (JSON.parse(queued.stdout) as { job: string }).job;
    while (emulator.stats.pages < 5) await sleep(5);
    first.kill('SIGTERM');
    expect(await new Promise((resolve) => first.once('exit', resolve))).toBe(0);
    expect(reports.find((r) => r.job === job && r.pid === first.pid && r.event !== 'started')?.event).toBe('returned');
    const pagesWhenStopped = emulator.stats.pages;
    expect(pagesWhenStopped).toBeLessThan(30); // it stopped mid-sync, not after the last page

    const second = await startWorker(env);
    const queue = await openSyncQueue(redis);
    try {
      await queue.follow(job, () => undefined);
    } finally {
      await queue.close();
    }
    expect(reports.find((r) => r.job === job && r.event === 'finished')?.pid).toBe(second.pid);
    const ids = (await readFile(join(out, 'contacts.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(new Set(ids).size).toBe(3_000);
    expect(ids).toHaveLength(3_000);
    // Resumed at the checkpoint: at most the page in flight at the stop is asked again.
    expect(emulator.stats.pages).toBeLessThanOrEqual(30 + 1);
    second.kill('SIGTERM');
    await new Promise((resolve) => second.once('exit', resolve));
    await emulator.stop();
  }, 60_000);

  it('POST /api/v1/syncs puts the sync on the queue: a worker runs it, the API reports it, and a cancel reaches the worker', async () => {
    const emulator = await new FrontEmulator({ records: 3_000, latencyMs: 30 }).start();
    const token = 'api-token-for-the-queue-test-0123456789';
    const { env, pairs } = await onQueue(
      emulator,
      [
        { streams: ['tags'], out: 'api-1' },
        { streams: ['contacts'], out: 'api-2' },
      ],
      () => ({ CREDPORT_API_TOKEN: token }),
    );
    const [first, second] = [pairs[0]!, pairs[1]!];
    const worker = await startWorker(env);
    const served = await startServe({ home, env });
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${served.url}/api/v1${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
      });
    const until = async (id: string, status: string) => {
      for (;;) {
        const job = (await (await api(`/syncs/${id}`)).json()) as { status: string; progress: Record<string, { records: number }> };
        if (job.status === status) return job;
        expect(job.status).toBe('running');
        await sleep(50);
      }
    };
    try {
      const done = (await (
        await api('/syncs', { method: 'POST', body: JSON.stringify({ source: first.source, destination: first.destination }) })
      ).json()) as { id: string };
      const finished = await until(done.id, 'finished');
      expect(finished.progress.tags!.records).toBe(3_000);
      expect(reports.some((r) => r.pid === worker.pid && r.event === 'finished')).toBe(true); // run by the worker, not the server

      const long = (await (
        await api('/syncs', { method: 'POST', body: JSON.stringify({ source: second.source, destination: second.destination }) })
      ).json()) as { id: string };
      while (emulator.stats.pages < 35) await sleep(5);
      expect((await api(`/syncs/${long.id}/cancel`, { method: 'POST' })).status).toBeLessThan(300);
      await until(long.id, 'cancelled');
      expect(reports.at(-1)).toMatchObject({ pid: worker.pid, event: 'failed', error: { code: 'sync_cancelled' } });
      expect(emulator.stats.pages).toBeLessThan(30 + 30); // stopped mid-sync
    } finally {
      await served.stop();
      worker.kill('SIGTERM');
      await new Promise((resolve) => worker.once('exit', resolve));
      await emulator.stop();
    }
  }, 60_000);

  it('a cancel of a queued sync that no worker has taken yet takes it off the queue: no worker runs it later', async () => {
    const emulator = await new FrontEmulator({ records: 100 }).start();
    const token = 'api-token-for-the-queue-test-0123456789';
    const { env, pairs } = await onQueue(emulator, [{ streams: ['tags'], out: 'never' }], () => ({ CREDPORT_API_TOKEN: token }));
    const served = await startServe({ home, env });
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${served.url}/api/v1${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
      });
    try {
      const queued = (await (
        await api('/syncs', { method: 'POST', body: JSON.stringify({ source: pairs[0]!.source, destination: pairs[0]!.destination }) })
      ).json()) as { id: string };
      expect((await api(`/syncs/${queued.id}/cancel`, { method: 'POST' })).status).toBeLessThan(300);
      let status = 'running';
      while (status === 'running') {
        await sleep(20);
        status = ((await (await api(`/syncs/${queued.id}`)).json()) as { status: string }).status;
      }
      expect(status).toBe('cancelled');
      const worker = await startWorker(env);
      await sleep(1_000);
      expect(reports.filter((r) => r.pid === worker.pid)).toEqual([]); // nothing left on the queue for it
      expect(emulator.stats.pages).toBe(0);
      worker.kill('SIGTERM');
      await new Promise((resolve) => worker.once('exit', resolve));
    } finally {
      await served.stop();
      await emulator.stop();
    }
  }, 60_000);
});
