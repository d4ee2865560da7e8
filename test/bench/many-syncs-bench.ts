// npm run bench: one `credport worker` process holding many syncs at once (issue 27), each on its own
// credential against the Front emulator limited per credential (12 requests a minute, 100 ms a page),
// measured over whole minutes from outside: the fraction of the sum of the limits the emulator
// answered, its 429s, the worker's peak RSS (VmHWM), its CPU (utime + stime from /proc/<pid>/stat over
// the measured time) and its event loop's p99 delay (perf_hooks, preloaded by loop-probe.mjs).
// With `floor: true` (or --floor alone) the same harness runs many-syncs-floor.mjs instead: one loop a
// token doing only what a sync must on got and keyv/SQLite, the least this work costs on this machine.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { openSyncQueue } from '../../src/queue/sync-queue.js';
import { randomMasterKey } from '../helpers/temp-home.js';
import { ensureRedis, freshRedisUri } from '../helpers/test-servers.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./loop-probe.mjs', import.meta.url));
const FLOOR = fileURLToPath(new URL('./many-syncs-floor.mjs', import.meta.url));
const TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in these

export interface ManySyncsOptions {
  syncs: number;
  perMinute: number;
  latencyMs: number;
  measureMs: number;
  /** credport worker --spread: each credential's requests spread across its window (default true). */
  spread?: boolean;
  /** Extra node flags for the worker (--cpu-prof, --heap-prof) when profiling. */
  nodeFlags?: string[];
  /** Where --cpu-prof / --heap-prof write, when profiling. */
  cwd?: string;
  /** Run many-syncs-floor.mjs (the least code doing the same work) instead of `credport worker`. */
  floor?: boolean;
}

export interface ManySyncsFigures {
  syncs: number;
  /** From the first enqueue (where the measured time starts) to the last job the worker said it started. */
  startSpreadMs: number;
  requests: number;
  ofLimits: number;
  rateLimited: number;
  peakRssMib: number;
  cpuOfCore: number;
  loopP99Ms: number;
  loopMaxMs: number;
  /** VmRSS once the process said it was ready, before any sync started. */
  idleRssMib: number;
  store: string;
  spread: boolean;
  floor: boolean;
}

function workerArgs(syncs: number, spread: boolean): string[] {
  return ['worker', '--json', '--no-webhooks', '--concurrency', String(syncs), '--grace', '2s', ...(spread ? ['--spread'] : [])];
}

/** Starts the measured process (worker or floor) with the loop probe preloaded; both print the same JSON events. */
function startMeasured(script: string, args: string[], env: NodeJS.ProcessEnv, nodeFlags: string[], cwd?: string) {
  const child = spawn(process.execPath, [...nodeFlags, '--import', PROBE, script, ...args], {
    env: { ...process.env, ...env },
    // The floor starts its loops on a line on stdin; the worker ignores it.
    stdio: ['pipe', 'pipe', 'inherit'],
    ...(cwd ? { cwd } : {}),
  });
  const started = new Set<string>();
  let lastStart = 0;
  let failed = 0;
  let firstFailure = '';
  let buffered = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.includes('"ready"')) resolve();
        else if (line.includes('"started"')) {
          started.add(JSON.parse(line).job);
          lastStart = Date.now();
        } else if (line.includes('"failed"')) {
          failed += 1;
          firstFailure ||= line;
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}`)));
  });
  return { child, ready, started, failed: () => failed, firstFailure: () => firstFailure, lastStart: () => lastStart };
}

function cpuTicks(pid: number): number {
  // Fields after the command name (which may hold spaces, in parentheses): utime is the 14th, stime the 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function peakRssKib(pid: number): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

function rssKib(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function manySyncsBench(home: string, o: ManySyncsOptions): Promise<ManySyncsFigures> {
  const tokens = Array.from({ length: o.syncs }, (_, i) => `bench_many_${i}_${'x'.repeat(20)}`);
  // Enough records that no sync finishes within the measured minutes.
  const records = Math.ceil(((o.measureMs + 120_000) / 60_000) * o.perMinute * 100 * 1.5);
  const emulator = await new FrontEmulator({
    tokens,
    records,
    latencyMs: o.latencyMs,
    rateLimit: o.perMinute,
    rateWindowMs: 60_000,
    rateLimitPerToken: true,
  }).start();
  const loopFile = join(home, 'loop.json');
  const measured = o.floor
    ? await prepareFloor(home, tokens, emulator.url, o, loopFile)
    : await prepareWorker(home, tokens, emulator.url, o, loopFile);
  const { worker, start } = measured;
  await worker.ready;
  const pid = worker.child.pid!;
  // Settled after start-up: what the process holds before any sync (credport's idle worker holds about 120 MiB).
  await sleep(1000);
  const idleKib = rssKib(pid);
  // The measured time starts at the first enqueue: each sync's provider window opens with its first
  // request, so whole minutes from here hold whole windows, the bursts of their opening included.
  const requests0 = emulator.requests;
  const limited0 = emulator.stats.rateLimited;
  const cpu0 = cpuTicks(pid);
  worker.child.kill('SIGUSR2');
  const t0 = Date.now();
  await start();
  while (worker.started.size < o.syncs) {
    if (Date.now() - t0 > 120_000) throw new Error(`only ${worker.started.size} of ${o.syncs} syncs started in 2 minutes`);
    await sleep(100);
  }
  const startSpreadMs = worker.lastStart() - t0;
  await sleep(Math.max(0, t0 + o.measureMs - Date.now()));
  const elapsed = Date.now() - t0;
  const cpu = (cpuTicks(pid) - cpu0) / TICKS / (elapsed / 1000);
  const requests = emulator.requests - requests0;
  const rateLimited = emulator.stats.rateLimited - limited0;
  const peakKib = peakRssKib(pid);
  await sleep(1100);
  const loop = JSON.parse(readFileSync(loopFile, 'utf8')) as { p99Ms: number; maxMs: number };
  if (worker.failed() > 0) throw new Error(`${worker.failed()} syncs failed, the first: ${worker.firstFailure()}`);

  const exited = new Promise((resolve) => worker.child.once('exit', resolve));
  worker.child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  await measured.close();
  await emulator.stop();
  return {
    syncs: o.syncs,
    startSpreadMs,
    requests,
    // Each sync may spend its limit once in every window its measured time meets.
    ofLimits: requests / (o.syncs * o.perMinute * Math.ceil(elapsed / 60_000 - 0.01)),
    rateLimited,
    peakRssMib: peakKib / 1024,
    cpuOfCore: cpu,
    loopP99Ms: loop.p99Ms,
    loopMaxMs: loop.maxMs,
    idleRssMib: idleKib / 1024,
    store: 'SQLite',
    spread: o.spread !== false,
    floor: o.floor === true,
  };
}

/** The floor: no credport at all, the tokens in a file, its loops started by a line on stdin. */
async function prepareFloor(home: string, tokens: string[], url: string, o: ManySyncsOptions, loopFile: string) {
  const tokensFile = join(home, 'floor-tokens.json');
  writeFileSync(tokensFile, JSON.stringify(tokens));
  const args = [url, tokensFile, home, join(home, 'floor.sqlite'), String(o.perMinute)];
  const worker = startMeasured(FLOOR, args, { BENCH_LOOP_FILE: loopFile }, o.nodeFlags ?? [], o.cwd);
  return {
    worker,
    start: async () => void worker.child.stdin!.write('go\n'),
    close: async () => {},
  };
}

async function prepareWorker(home: string, tokens: string[], url: string, o: ManySyncsOptions, loopFile: string) {
  await ensureRedis();
  const masterKey = randomMasterKey();
  // SQLite (the default store in CREDPORT_HOME): a sync writes its checkpoint once a page, 200 a second in all.
  const credport = await openCredport({ home, masterKey, env: {} });
  const pairs: { sourceId: string; destinationId: string }[] = [];
  for (let i = 0; i < o.syncs; i++) {
    const tile = await credport.credentials.create({
      connector: 'front',
      values: { name: `c${i}`, apiKey: tokens[i]! },
      baseUrl: url,
      verify: false,
    });
    const source = await credport.configs.addSource({ name: `s${i}`, connector: 'front', credentialId: tile.id, streams: ['contacts'] });
    const destination = await credport.configs.addDestination({ name: `d${i}`, connector: 'jsonl', path: join(home, `out-${i}`) });
    pairs.push({ sourceId: source.id, destinationId: destination.id });
  }
  await credport.close();

  const redis = await freshRedisUri();
  const env = { CREDPORT_HOME: home, CREDPORT_MASTER_KEY: masterKey, CREDPORT_QUEUE: redis, BENCH_LOOP_FILE: loopFile };
  const worker = startMeasured(CLI, workerArgs(o.syncs, o.spread !== false), env, o.nodeFlags ?? [], o.cwd);
  const queue = await openSyncQueue(redis);
  return {
    worker,
    start: async () => void (await Promise.all(pairs.map((p) => queue.enqueue({ ...p, fullRefresh: true })))),
    close: () => queue.close(),
  };
}

export function manySyncsLine(f: ManySyncsFigures): string {
  return [
    f.floor ? 'floor (many-syncs-floor.mjs: got + keyv/SQLite, one loop a token):' : '`credport worker`:',
    `${f.syncs} syncs started within ${(f.startSpreadMs / 1000).toFixed(1)} s of the first enqueue;`,
    `${f.ofLimits.toFixed(3)} of the sum of the limits (${f.requests} requests), 429s: ${f.rateLimited};`,
    `peak RSS ${f.peakRssMib.toFixed(0)} MiB (idle ${f.idleRssMib.toFixed(0)} MiB); CPU ${f.cpuOfCore.toFixed(2)} of a core;`,
    `event loop p99 ${f.loopP99Ms.toFixed(1)} ms (max ${f.loopMaxMs.toFixed(0)} ms); store ${f.store}${f.floor ? '' : `; ${f.spread ? 'worker --spread' : 'no --spread'}`}`,
  ].join(' ');
}

/** The worker against the floor measured in the same run, as ratios (absolute figures drift with the machine's load). */
export function manySyncsRatios(worker: ManySyncsFigures, floor: ManySyncsFigures): string {
  const aboveIdle = (f: ManySyncsFigures) => f.peakRssMib - f.idleRssMib;
  return [
    `worker / floor: CPU ${(worker.cpuOfCore / floor.cpuOfCore).toFixed(2)}x;`,
    `peak RSS ${(worker.peakRssMib / floor.peakRssMib).toFixed(2)}x;`,
    `peak RSS above idle ${aboveIdle(worker).toFixed(0)} MiB vs ${aboveIdle(floor).toFixed(0)} MiB (${(aboveIdle(worker) / aboveIdle(floor)).toFixed(2)}x,`,
    `${((aboveIdle(worker) * 1024) / worker.syncs).toFixed(0)} vs ${((aboveIdle(floor) * 1024) / floor.syncs).toFixed(0)} KiB a sync);`,
    `event loop p99 ${(worker.loopP99Ms / floor.loopP99Ms).toFixed(2)}x;`,
    `the floor alone uses ${(floor.cpuOfCore / 0.25).toFixed(2)} of the 0.25-core goal.`,
  ].join(' ');
}

// Run alone: npx tsx test/bench/many-syncs-bench.ts [--floor] [--quick] [--no-spread] [--cpu-prof|--heap-prof]
// (--floor measures many-syncs-floor.mjs instead of the worker; the profile flags go to the measured process.)
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const quick = process.argv.includes('--quick');
  const home = await mkdtemp(join(tmpdir(), 'credport-many-'));
  const nodeFlags = process.argv.filter((a) => a === '--cpu-prof' || a === '--heap-prof');
  const syncs = Number(process.env.BENCH_SYNCS ?? (quick ? 100 : 1000));
  const measureMs = Number(process.env.BENCH_MEASURE_MS ?? (quick ? 30_000 : 180_000));
  const spread = !process.argv.includes('--no-spread');
  const floor = process.argv.includes('--floor');
  const figures = await manySyncsBench(home, {
    syncs,
    perMinute: 12,
    latencyMs: 100,
    measureMs,
    spread,
    nodeFlags,
    cwd: process.cwd(),
    floor,
  });
  console.log(manySyncsLine(figures));
  await rm(home, { recursive: true, force: true });
}
