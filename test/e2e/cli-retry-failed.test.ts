import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { openSyncQueue, type SyncQueue } from '../../src/queue/sync-queue.js';
import { runCli } from '../helpers/run-cli.js';
import { killLeftWorkers, startWorkerProcess } from '../helpers/worker-process.js';
import { startServe } from '../helpers/serve.js';
import { randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';
import { ensurePostgres, ensureRedis, freshPostgresUri, freshRedisUri } from '../helpers/test-servers.js';

/**
 * `credport sync --retry-failed`: queued syncs that failed for good (here: the provider refused
 * the key for a while) go back on the queue once the cause is fixed, and resume at their checkpoint.
 */
let home: string;
beforeAll(async () => {
  home = await tempHome();
  await ensurePostgres();
  await ensureRedis();
});
afterAll(async () => {
  killLeftWorkers();
  await removeHome(home);
});

const startWorker = async (env: NodeJS.ProcessEnv) => (await startWorkerProcess(env)).child;

async function stopWorker(worker: ChildProcess): Promise<void> {
  worker.kill('SIGTERM');
  if (worker.exitCode === null) await new Promise((resolve) => worker.once('exit', resolve));
}

/** One store and one queue; per workspace one Front credential on the emulator, and a source and JSONL destination per entry. */
async function setUp(emulator: FrontEmulator, wanted: { workspace: string; streams: string[]; out: string }[]) {
  const env = {
    CREDPORT_HOME: home,
    CREDPORT_STORE: await freshPostgresUri(),
    CREDPORT_MASTER_KEY: randomMasterKey(),
    CREDPORT_QUEUE: await freshRedisUri(),
  };
  const pairs: { source: string; destination: string; out: string }[] = [];
  for (const { workspace, streams, out } of wanted) {
    const credport = await openCredport({
      home,
      storeUri: env.CREDPORT_STORE,
      masterKey: env.CREDPORT_MASTER_KEY,
      env: {},
      access: { workspace, role: 'admin' },
    });
    credport.outbound.allow(`front=${emulator.url}`);
    const tile = await credport.credentials.create({
      connector: 'front',
      values: { name: `key of ${out}`, apiKey: [...emulator.tokens][0]! },
      baseUrl: emulator.url,
      verify: false,
    });
    const source = await credport.configs.addSource({ name: `s-${out}`, connector: 'front', credentialId: tile.id, streams });
    const destination = await credport.configs.addDestination({ name: `d-${out}`, connector: 'jsonl', path: join(home, out) });
    pairs.push({ source: source.id, destination: destination.id, out: join(home, out) });
    await credport.close();
  }
  return { env, pairs };
}

async function ids(out: string, stream: string): Promise<string[]> {
  return (await readFile(join(out, `${stream}.jsonl`), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { id: string }).id);
}

/** How a followed job ended: its summary, or its error's code. */
const outcome = (queue: SyncQueue, job: string) =>
  queue
    .follow(job, () => undefined)
    .then(
      (summary) => ({ finished: summary.records }),
      (error: { code: string }) => ({ failed: error.code }),
    );

const jsonLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('failed syncs run again: credport sync --retry-failed and POST /syncs/{id}/retry', () => {
  it('puts failed syncs back under their job ids once the cause is fixed: they resume at the checkpoint (even a --full-refresh), only the workspace and source asked for', async () => {
    const emulator = await new FrontEmulator({ records: 3_000, latencyMs: 20 }).start();
    const token = [...emulator.tokens][0]!;
    const { env, pairs } = await setUp(emulator, [
      { workspace: 'default', streams: ['contacts'], out: 'a' },
      { workspace: 'default', streams: ['tags'], out: 'b' },
      { workspace: 'acme', streams: ['tags'], out: 'c' },
    ]);
    const [a, b, c] = [pairs[0]!, pairs[1]!, pairs[2]!];
    const worker = await startWorker(env);
    const queue = await openSyncQueue(env.CREDPORT_QUEUE);
    const detached = async (pair: typeof a, ...more: string[]) => {
      const queued = await runCli(['sync', pair.source, '--to', pair.destination, '--detach', '--json', ...more], { env });
      expect(queued.code).toBe(0);
      return (JSON.parse(queued.stdout) as { job: string }).job;
    };
    try {
      // A full refresh, a third of the way through: the provider refuses the key, the job fails for good.
      const jobA = await detached(a, '--full-refresh');
      while (emulator.stats.pages < 10) await sleep(5);
      emulator.tokens.clear();
      expect(await outcome(queue, jobA)).toEqual({ failed: 'provider_rejected' });
      // Two more fail at once while it refuses: one in this workspace, one in another.
      const jobB = await detached(b);
      const jobC = await detached(c, '--workspace', 'acme');
      expect(await outcome(queue, jobB)).toEqual({ failed: 'provider_rejected' });
      expect(await outcome(queue, jobC)).toEqual({ failed: 'provider_rejected' });
      const contactPagesRead = emulator.pagesAsked.filter((p) => p.startsWith('/contacts')).length;
      expect(contactPagesRead).toBeGreaterThanOrEqual(10);
      expect(contactPagesRead).toBeLessThan(30);

      emulator.tokens.add(token); // the key works again
      // Only source a's: b stays failed until asked for.
      const onlyA = await runCli(['sync', '--retry-failed', a.source], { env });
      expect(onlyA.code).toBe(0);
      expect(onlyA.stdout).toMatch(
        new RegExp(`^${jobA} \\(${a.source} -> ${a.destination}\\): back on the queue; it failed with provider_rejected: .*401`, 'm'),
      );
      expect(onlyA.stdout).toContain(`1 failed sync of ${a.source} back on the queue`);
      expect(onlyA.stdout).not.toContain(jobB);
      // Followed by the same id: it resumes where the full refresh stopped, nothing read twice or lost.
      expect(await outcome(queue, jobA)).toEqual({ finished: 3_000 }); // the run's records, both attempts
      // At most the page in flight when the key was refused is asked again; a full refresh would ask all 30 again.
      expect(emulator.pagesAsked.filter((p) => p.startsWith('/contacts')).length).toBeLessThanOrEqual(30 + 1);
      const contacts = await ids(a.out, 'contacts');
      expect(contacts).toHaveLength(3_000);
      expect(new Set(contacts).size).toBe(3_000);

      // Only those into a's destination: none (b writes elsewhere).
      const intoA = await runCli(['sync', '--retry-failed', '--to', a.destination], { env });
      expect([intoA.code, intoA.stdout]).toEqual([0, `no failed syncs to ${a.destination} in workspace default to retry\n`]);

      // All of this workspace's: b; never acme's c.
      const rest = await runCli(['sync', '--retry-failed', '--json'], { env });
      expect(rest.code).toBe(0);
      expect(jsonLines(rest.stdout)).toEqual([
        {
          job: jobB,
          source: b.source,
          destination: b.destination,
          queued: true,
          failure: { code: 'provider_rejected', message: expect.stringContaining('401') },
        },
        { retried: 1, cancelledLeft: 0 },
      ]);
      expect(await outcome(queue, jobB)).toEqual({ finished: 3_000 });
      expect(await outcome(queue, jobC)).toEqual({ failed: 'provider_rejected' });
      const none = await runCli(['sync', '--retry-failed'], { env });
      expect([none.code, none.stdout]).toEqual([0, 'no failed syncs in workspace default to retry\n']);
      // acme's operator puts back acme's.
      const acme = await runCli(['sync', '--retry-failed', '--workspace', 'acme', '--to', c.destination], { env });
      expect(acme.stdout).toContain(`${jobC} (${c.source} -> ${c.destination}): back on the queue`);
      expect(await outcome(queue, jobC)).toEqual({ finished: 3_000 });
    } finally {
      await queue.close();
      await stopWorker(worker);
      await emulator.stop();
    }
  }, 90_000);

  it('leaves a sync a user cancelled, and says so; needs CREDPORT_QUEUE; the plain sync keeps its usage errors', async () => {
    const emulator = await new FrontEmulator({ records: 3_000, latencyMs: 20 }).start();
    const { env, pairs } = await setUp(emulator, [{ workspace: 'default', streams: ['contacts'], out: 'cancelled' }]);
    const { source, destination } = pairs[0]!;
    const worker = await startWorker(env);
    const queue = await openSyncQueue(env.CREDPORT_QUEUE);
    try {
      const job = (
        JSON.parse((await runCli(['sync', source, '--to', destination, '--detach', '--json'], { env })).stdout) as { job: string }
      ).job;
      while (emulator.stats.pages < 3) await sleep(5);
      await queue.cancel(job);
      expect(await outcome(queue, job)).toEqual({ failed: 'sync_cancelled' });

      const json = await runCli(['sync', '--retry-failed', '--json'], { env });
      expect(json.code).toBe(0);
      expect(jsonLines(json.stdout)).toEqual([
        { job, source, destination, queued: false, failure: { code: 'sync_cancelled', message: expect.any(String) } },
        { retried: 0, cancelledLeft: 1 },
      ]);
      const said = await runCli(['sync', '--retry-failed'], { env });
      expect(said.code).toBe(0);
      expect(said.stderr).toContain(`${job} (${source} -> ${destination}): left as it is, a user cancelled it`);
      expect(said.stdout).toBe('no failed syncs in workspace default to retry\n');
      expect(await outcome(queue, job)).toEqual({ failed: 'sync_cancelled' }); // still failed: no worker took it again
    } finally {
      await queue.close();
      await stopWorker(worker);
      await emulator.stop();
    }

    const { CREDPORT_QUEUE: _queue, ...noQueue } = env;
    const refused = await runCli(['sync', '--retry-failed', '--json'], { env: noQueue });
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: 'invalid_input', field: 'CREDPORT_QUEUE' } });
    expect(refused.stderr).toContain('--retry-failed needs the queue');
    const fresh = await runCli(['sync', '--retry-failed', '--full-refresh'], { env });
    expect([fresh.code, fresh.stderr]).toEqual([
      2,
      'credport: --retry-failed runs each failed sync again as it was asked: --full-refresh does not apply (it resumes at its checkpoint)\n',
    ]);
    // Without --retry-failed, a source and --to are required as before, in commander's words.
    expect(await runCli(['sync', '--to', destination], { env })).toMatchObject({
      code: 2,
      stderr: "credport: missing required argument 'source-id'\n",
    });
    expect(await runCli(['sync', source], { env })).toMatchObject({
      code: 2,
      stderr: "credport: required option '--to <destination-id>' not specified\n",
    });
  }, 60_000);

  it('POST /api/v1/syncs/{id}/retry through a serve on the queue: the new job runs in a worker and resumes at the checkpoint', async () => {
    const emulator = await new FrontEmulator({ records: 3_000, latencyMs: 20 }).start();
    const key = [...emulator.tokens][0]!;
    const apiToken = 'api-token-for-the-retry-test-0123456789';
    const { env, pairs } = await setUp(emulator, [{ workspace: 'default', streams: ['contacts'], out: 'api' }]);
    const { source, destination, out } = pairs[0]!;
    const worker = await startWorker(env);
    const served = await startServe({ home, env: { ...env, CREDPORT_API_TOKEN: apiToken } });
    const api = async (path: string, body?: unknown) => {
      const response = await fetch(`${served.url}/api/v1${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return {
        status: response.status,
        body: (await response.json()) as { id: string; status: string; retryOf?: string; error?: { code: string } },
      };
    };
    const ended = async (id: string) => {
      for (;;) {
        const job = (await api(`/syncs/${id}`)).body;
        if (job.status !== 'running') return job;
        await sleep(50);
      }
    };
    try {
      const first = await api('/syncs', { source, destination, fullRefresh: true });
      expect(first.status).toBe(202);
      while (emulator.stats.pages < 10) await sleep(5);
      emulator.tokens.clear();
      expect(await ended(first.body.id)).toMatchObject({ status: 'failed', error: { code: 'provider_rejected' } });
      const readBefore = emulator.pagesAsked.length;
      expect(readBefore).toBeLessThan(30);

      emulator.tokens.add(key);
      const again = await api(`/syncs/${first.body.id}/retry`, {});
      expect(again.status).toBe(202);
      expect(again.body.retryOf).toBe(first.body.id);
      expect(await ended(again.body.id)).toMatchObject({ status: 'finished' });
      expect(emulator.pagesAsked.length).toBeLessThanOrEqual(30 + 1); // resumed: the pages before the failure not asked again
      const contacts = await ids(out, 'contacts');
      expect(contacts).toHaveLength(3_000);
      expect(new Set(contacts).size).toBe(3_000);
    } finally {
      await served.stop();
      await stopWorker(worker);
      await emulator.stop();
    }
  }, 60_000);
});
