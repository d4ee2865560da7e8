// Concurrent streams for npm run bench: the rate a 3-stream sync reaches against the provider's
// limit (the limit is the baseline), and what reading streams side by side costs when the provider
// is fast (sequential reading, --concurrency 1, is the baseline).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { PagedProvider, writePagerConnector } from '../helpers/paged-provider.js';
import { measureChild } from './measure-child.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const STREAMS = { front: ['tags', 'contacts', 'conversations'], pager: ['alpha', 'beta', 'gamma'] };

interface Provider {
  url: string;
  token: string;
  stats: { pages: number; rateLimited: number; maxInFlight: number };
  stop(): Promise<void>;
}

async function setUp(home: string, kind: 'front' | 'pager', provider: Provider, windowMs: number) {
  const extras = join(home, 'connectors');
  await writePagerConnector(extras, STREAMS.pager, windowMs);
  const credport = await openCredport({ home, env: {}, extraConnectorDirs: [extras] });
  const values = kind === 'front' ? { name: 'bench', apiKey: provider.token } : { name: 'bench', token: provider.token };
  // Saved unverified: a GET /me would open the provider's first window before the sync does.
  const tile = await credport.credentials.create({ connector: kind, values, baseUrl: provider.url, verify: false });
  const source = await credport.configs.addSource({ name: 'bench', connector: kind, credentialId: tile.id, streams: STREAMS[kind] });
  const destination = await credport.configs.addDestination({ name: 'bench', connector: 'jsonl', path: join(home, 'out') });
  await credport.close();
  return { source: source.id, destination: destination.id, env: { ...process.env, CREDPORT_HOME: home, CREDPORT_CONNECTORS: extras } };
}

/**
 * Three streams, `latencyMs` a page, `perMinute` allowed in fixed windows scaled down to `windowMs`
 * (the same rate, a shorter bench). Counts the pages answered in whole windows after the first.
 */
export async function rateUnderLimit(
  home: string,
  kind: 'front' | 'pager',
  options: { perMinute: number; windowMs: number; windows: number; latencyMs: number },
) {
  const perWindow = Math.round((options.perMinute * options.windowMs) / 60_000);
  const records = 100_000; // 1,000 pages a stream: none finishes inside the measured windows
  const provider: Provider =
    kind === 'front'
      ? await (async () => {
          const emulator = await new FrontEmulator({
            records,
            latencyMs: options.latencyMs,
            rateLimit: perWindow,
            rateWindowMs: options.windowMs,
          }).start();
          return { url: emulator.url, token: [...emulator.tokens][0]!, stats: emulator.stats, stop: () => emulator.stop() };
        })()
      : await new PagedProvider({
          records,
          streams: STREAMS.pager,
          latencyMs: options.latencyMs,
          rateLimit: perWindow,
          windowMs: options.windowMs,
        }).start();
  const s = await setUp(home, kind, provider, options.windowMs);
  const child = spawn(process.execPath, [CLI, 'sync', s.source, '--to', s.destination], { env: s.env, stdio: 'ignore' });
  while (provider.stats.pages === 0) await sleep(2);
  const from = provider.stats.pages;
  await sleep(options.windows * options.windowMs - 20);
  const pages = provider.stats.pages - from;
  const { rateLimited, maxInFlight } = provider.stats;
  child.kill('SIGKILL');
  await provider.stop();
  const achieved = pages / ((options.windows * options.windowMs) / 60_000);
  return { achieved, ofLimit: achieved / options.perMinute, rateLimited, maxInFlight };
}

/** The same 3-stream sync with no latency and no limit, side by side (the default) and one stream after another. */
export async function concurrencyCost(home: string, rounds: number) {
  const records = 30_000;
  const emulator = await new FrontEmulator({ records }).start();
  const provider = { url: emulator.url, token: [...emulator.tokens][0]!, stats: emulator.stats, stop: () => emulator.stop() };
  const s = await setUp(home, 'front', provider, 60_000);
  const args = (concurrency: number) => [
    CLI,
    'sync',
    s.source,
    '--to',
    s.destination,
    '--full-refresh',
    '--concurrency',
    String(concurrency),
  ];
  const side: number[] = [];
  const one: number[] = [];
  for (let i = 0; i < rounds; i++) {
    one.push((await measureChild(args(1), s.env, { peak: false })).ms);
    side.push((await measureChild(args(4), s.env, { peak: false })).ms);
  }
  await emulator.stop();
  const total = records * STREAMS.front.length;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratios = side.map((ms, i) => one[i]! / ms);
  return { sideRps: total / (median(side) / 1000), oneRps: total / (median(one) / 1000), ratio: median(ratios), ratios };
}
