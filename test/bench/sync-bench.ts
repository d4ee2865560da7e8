// Sync figures for npm run bench: throughput beside a bare got loop, peak memory at two sizes,
// and the pace held under a provider rate limit.
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { measureChild } from './measure-child.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const BASELINE = fileURLToPath(new URL('./got-loop-baseline.mjs', import.meta.url));

interface Setup {
  emulator: FrontEmulator;
  token: string;
  source: string;
  destination: string;
  out: string;
  env: NodeJS.ProcessEnv;
}

async function setUp(home: string, emulatorOptions: ConstructorParameters<typeof FrontEmulator>[0], verify = true): Promise<Setup> {
  const emulator = await new FrontEmulator(emulatorOptions).start();
  const token = [...emulator.tokens][0]!;
  const credport = await openCredport({ home, env: {} });
  const tile = await credport.credentials.create({
    connector: 'front',
    values: { name: 'bench', apiKey: token },
    baseUrl: emulator.url,
    verify,
  });
  const source = await credport.configs.addSource({ name: 'bench', connector: 'front', credentialId: tile.id, streams: ['contacts'] });
  const out = join(home, 'out');
  const destination = await credport.configs.addDestination({ name: 'bench', connector: 'jsonl', path: out });
  await credport.close();
  return {
    emulator,
    token,
    source: source.id,
    destination: destination.id,
    out,
    env: { ...process.env, CREDPORT_HOME: home, FRONT_TOKEN: token },
  };
}

const syncArgs = (s: Setup) => [CLI, 'sync', s.source, '--to', s.destination, '--full-refresh'];

async function lines(file: string): Promise<number> {
  return (await readFile(file, 'utf8')).split('\n').length - 1;
}

export async function syncThroughput(home: string, records: number, rounds: number) {
  const s = await setUp(home, { records });
  const baselineFile = join(home, 'baseline.jsonl');
  const firstPage = `${s.emulator.url}/contacts?limit=100`;
  const ours: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate, so drift in the machine's load hits both alike.
    base.push((await measureChild([BASELINE, firstPage, baselineFile], s.env)).ms);
    ours.push((await measureChild(syncArgs(s), s.env)).ms);
  }
  const [a, b] = [await lines(join(s.out, 'contacts.jsonl')), await lines(baselineFile)];
  if (a !== records || b !== records) throw new Error(`line counts differ: credport ${a}, baseline ${b}, expected ${records}`);
  if ((await stat(join(s.out, 'contacts.jsonl'))).size !== (await stat(baselineFile)).size)
    throw new Error('credport and the baseline wrote different files');
  await s.emulator.stop();
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  // Each credport run is compared with the baseline run beside it, which cancels slow drift in the
  // machine's load; the median of those ratios is the figure.
  const ratios = ours.map((ms, i) => base[i]! / ms);
  return { oursRps: records / (median(ours) / 1000), baseRps: records / (median(base) / 1000), ratio: median(ratios), ratios };
}

export async function syncPeakRss(home: string, records: number): Promise<number | undefined> {
  const s = await setUp(home, { records });
  const run = await measureChild(syncArgs(s), s.env);
  if ((await lines(join(s.out, 'contacts.jsonl'))) !== records) throw new Error('the sync did not write every record');
  await s.emulator.stop();
  await rm(s.out, { recursive: true, force: true });
  return run.peakKib;
}

/**
 * R requests a minute, enforced by the emulator in windows scaled down to `windowMs` (same rate,
 * shorter bench). Counts the pages the sync got through in whole windows, and the 429s it drew.
 */
export async function syncUnderRateLimit(home: string, perMinute: number, windowMs: number, windows: number) {
  const perWindow = Math.round((perMinute * windowMs) / 60_000);
  // Saved unverified: a GET /me here would open the emulator's first window before the sync does.
  const s = await setUp(home, { records: 10_000_000, rateLimit: perWindow, rateWindowMs: windowMs }, false);
  const baseline = s.emulator.stats.pages;
  const child = spawn(process.execPath, syncArgs(s), { env: s.env, stdio: 'ignore' });
  while (s.emulator.stats.pages === baseline) await sleep(2);
  await sleep(windows * windowMs - 20);
  const pages = s.emulator.stats.pages - baseline;
  const rateLimited = s.emulator.stats.rateLimited;
  child.kill('SIGKILL');
  await s.emulator.stop();
  return { perMinute, achieved: pages / ((windows * windowMs) / 60_000), rateLimited, pages };
}
