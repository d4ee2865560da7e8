// A fault run of the fleet: workers on a PostgreSQL store and a Redis queue (each the run's own, on
// loopback), syncs of the Front emulator failing every 7th request, and meanwhile: workers killed
// with kill -9 (a supervisor starts them again), Redis killed and started again, PostgreSQL stopped
// for a while. It ends when every job has ended, then checks that every job finished, every record
// landed once, no worker spins while idle, and SIGTERM ends each within its grace.
//
//   npm run build && npx tsx test/faults/fault-run.ts [--syncs 120] [--records 20000] [--pg-outages 10,30,85,300]
//
// Needs root (for its own PostgreSQL cluster), redis-server and PostgreSQL installed. Prints figures, exits 1 on a broken invariant.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { openSyncQueue } from '../../src/queue/sync-queue.js';
import { cpuSeconds, OwnPostgres, OwnRedis } from '../helpers/own-servers.js';
import { runCli } from '../helpers/run-cli.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';
import { randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';

const { values: args } = parseArgs({
  options: {
    syncs: { type: 'string', default: '120' },
    records: { type: 'string', default: '20000' },
    workers: { type: 'string', default: '3' },
    'pg-outages': { type: 'string', default: '10,30,85,300' },
    'redis-restarts': { type: 'string', default: '2' },
    'worker-kills': { type: 'string', default: '6' },
  },
});
const SYNCS = Number(args.syncs);
const RECORDS = Number(args.records);
const WORKERS = Number(args.workers);
const PG_OUTAGES_S = args['pg-outages']!.split(',').filter(Boolean).map(Number);
const REDIS_RESTARTS = Number(args['redis-restarts']);
const WORKER_KILLS = Number(args['worker-kills']);

const t0 = Date.now();
const at = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s`;
const log = (text: string) => console.log(`${at()}  ${text}`);

const home = await tempHome();
const postgres = await OwnPostgres.create();
const redis = await OwnRedis.start(home, { persist: true });
const emulator = await new FrontEmulator({ records: RECORDS, latencyMs: 20, failEvery: 7 }).start();
const env = {
  PATH: process.env.PATH,
  CREDPORT_HOME: home,
  CREDPORT_STORE: postgres.url,
  CREDPORT_MASTER_KEY: randomMasterKey(),
  CREDPORT_QUEUE: redis.url,
  CREDPORT_REDIS: redis.url,
  CREDPORT_HTTP_RETRIES: '5',
};

const credport = await openCredport({ home, storeUri: env.CREDPORT_STORE, masterKey: env.CREDPORT_MASTER_KEY, env: {} });
const tile = await credport.credentials.create({
  connector: 'front',
  values: { name: 'fault run', apiKey: [...emulator.tokens][0]! },
  baseUrl: emulator.url,
  verify: false,
});
const pairs: { source: string; destination: string; out: string }[] = [];
for (let i = 0; i < SYNCS; i++) {
  const source = await credport.configs.addSource({ name: `s${i}`, connector: 'front', credentialId: tile.id, streams: ['contacts'] });
  const out = join(home, `out-${i}`);
  const destination = await credport.configs.addDestination({ name: `d${i}`, connector: 'jsonl', path: out });
  pairs.push({ source: source.id, destination: destination.id, out });
}
await credport.close();

/** Each worker slot: a process that a supervisor starts again whenever it exits (as systemd would). */
const counts = {
  started: 0,
  finished: 0,
  returned: 0,
  failed: 0,
  lostFinished: 0,
  connectionDown: 0,
  workerExits: {} as Record<string, number>,
};
interface Slot {
  worker?: WorkerProcess;
  stopping: boolean;
}
const slots: Slot[] = [];
function count(event: Record<string, unknown>) {
  if (event.event === 'started') counts.started++;
  if (event.event === 'finished') {
    counts.finished++;
    if (event.lost) counts.lostFinished++;
  }
  if (event.event === 'returned') counts.returned++;
  if (event.event === 'failed') {
    counts.failed++;
    log(`FAILED: ${JSON.stringify(event).slice(0, 300)}`);
  }
  if (event.event === 'connection' && event.state === 'down') counts.connectionDown++;
}
function supervise(slot: Slot) {
  const exitedAs = (key: string, stderr: string) => {
    counts.workerExits[key] = (counts.workerExits[key] ?? 0) + 1;
    if (key !== 'SIGKILL' && stderr.trim()) log(`worker exited ${key}: ${stderr.trim().split('\n').at(-1)}`);
    if (!slot.stopping) setTimeout(() => supervise(slot), 1_000);
  };
  startWorkerProcess(env, { onLine: count }).then(
    (worker) => {
      slot.worker = worker;
      void worker.exited.then((code) => exitedAs(worker.child.signalCode ?? String(code), worker.stderr()));
    },
    (error: Error) => exitedAs('before ready', error.message),
  );
}
for (let i = 0; i < WORKERS; i++) {
  const slot = { stopping: false };
  slots.push(slot);
  supervise(slot);
}

const jobs: string[] = [];
for (const pair of pairs) {
  const queued = await runCli(['sync', pair.source, '--to', pair.destination, '--detach', '--json'], { env });
  if (queued.code !== 0) throw new Error(`enqueue failed: ${queued.stderr}`);
  jobs.push((JSON.parse(queued.stdout) as { job: string }).job);
}
log(`${SYNCS} syncs of ${RECORDS} records queued for ${WORKERS} workers`);

// The faults, one after another while the syncs run.
const faults = (async () => {
  const plan: (() => Promise<void>)[] = [];
  for (let i = 0; i < WORKER_KILLS; i++) {
    plan.push(async () => {
      const slot = slots[i % slots.length]!;
      log(`kill -9 worker ${slot.worker?.child.pid}`);
      slot.worker?.child.kill('SIGKILL');
    });
  }
  for (let i = 0; i < REDIS_RESTARTS; i++) {
    plan.push(async () => {
      log('kill -9 Redis');
      await redis.kill();
      await sleep(3_000);
      await redis.start();
      log('Redis started again (its append-only file kept the queue)');
    });
  }
  for (const seconds of PG_OUTAGES_S) {
    plan.push(async () => {
      log(`PostgreSQL stopped (immediate) for ${seconds} s`);
      postgres.stopNow();
      await sleep(seconds * 1_000);
      await postgres.start();
      log('PostgreSQL started again');
    });
  }
  // Interleaved by kind: a worker kill, a Redis restart, a PostgreSQL outage, a kill, ...
  const kinds = [
    plan.slice(0, WORKER_KILLS),
    plan.slice(WORKER_KILLS, WORKER_KILLS + REDIS_RESTARTS),
    plan.slice(WORKER_KILLS + REDIS_RESTARTS),
  ];
  const order: (() => Promise<void>)[] = [];
  while (kinds.some((k) => k.length > 0)) for (const kind of kinds) if (kind.length > 0) order.push(kind.shift()!);
  for (const step of order) {
    if (counts.finished >= SYNCS) break;
    await step();
    await sleep(5_000);
  }
})();

const queue = await openSyncQueue(redis.url, { retryForMs: 60 * 60_000 });
const results = await Promise.allSettled(jobs.map((job) => queue.follow(job, () => undefined)));
await queue.close();
log('every job ended');
await faults;

let broken = 0;
const fail = (what: string) => {
  broken++;
  log(`BROKEN: ${what}`);
};
const failedJobs = results.filter((r) => r.status === 'rejected');
if (failedJobs.length > 0)
  fail(
    `${failedJobs.length} jobs did not finish: ${failedJobs
      .map((r) => (r as PromiseRejectedResult).reason.message)
      .slice(0, 3)
      .join(' | ')}`,
  );
let landed = 0;
for (const pair of pairs) {
  const ids = (await readFile(join(pair.out, 'contacts.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { id: string }).id);
  landed += ids.length;
  if (ids.length !== RECORDS || new Set(ids).size !== RECORDS)
    fail(`${pair.out}: ${ids.length} lines, ${new Set(ids).size} distinct, ${RECORDS} expected`);
}
// Idle now: none may spin.
const idle = slots.map((s) => s.worker!.child).filter((c) => c.exitCode === null);
const before = idle.map((c) => cpuSeconds(c.pid!));
await sleep(5_000);
const cpu = idle.map((c, i) => (cpuSeconds(c.pid!) - before[i]!) / 5);
if (cpu.some((share) => share > 0.5)) fail(`a worker used ${Math.max(...cpu).toFixed(2)} of a core while idle`);
const stopAt = Date.now();
for (const slot of slots) slot.stopping = true;
for (const child of idle) child.kill('SIGTERM');
const ended = await Promise.race([
  Promise.all(idle.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(c.exitCode) : c.once('exit', resolve))))),
  sleep(35_000, 'hung'),
]);
if (ended === 'hung') fail('a worker did not end within 35 s of SIGTERM');

console.log(
  JSON.stringify(
    {
      minutes: Math.round((Date.now() - t0) / 600) / 100,
      syncs: SYNCS,
      recordsLanded: landed,
      recordsExpected: SYNCS * RECORDS,
      providerPages: emulator.stats.pages,
      providerFailuresInjected: `every 7th request`,
      faults: { workerKills: WORKER_KILLS, redisRestarts: REDIS_RESTARTS, postgresOutagesS: PG_OUTAGES_S },
      worker: counts,
      idleCpuShare: cpu.map((c) => Number(c.toFixed(3))),
      sigtermToExitMs: Date.now() - stopAt,
      broken,
    },
    null,
    2,
  ),
);
await emulator.stop();
await redis.stop();
postgres.drop();
await removeHome(home);
process.exit(broken > 0 ? 1 : 0);
