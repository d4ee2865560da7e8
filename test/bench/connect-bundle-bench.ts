// The Connect page's weight for npm run bench: what a pick session's browser must fetch and run
// before its first tile shows (the entry and its static imports), against what the whole page can
// load (the form renderer's chunks too, fetched when an overlay opens), beside today's web app.
// Read from Vite's manifest of the built web app (dist/web/.vite/manifest.json); gzip at zlib's
// default level, as a server compressing on the fly sends it. Run alone: npx tsx test/bench/connect-bundle-bench.ts
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Row } from './credentials-bench.js';

interface ManifestChunk {
  file: string;
  name?: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}
type Manifest = Record<string, ManifestChunk>;

const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));
/** The issue's goals, in KiB gzipped. */
export const FIRST_TILE_GOAL_KB = 80;
export const WHOLE_PAGE_GOAL_KB = 170;

export interface BundleFigures {
  rows: Row[];
  /** The chunks a pick session loads before its first tile, each with its gzipped KiB. */
  firstTile: { file: string; kb: number }[];
}

export async function connectBundleBench(webRoot = WEB_ROOT): Promise<BundleFigures> {
  const manifest = JSON.parse(await readFile(join(webRoot, '.vite', 'manifest.json'), 'utf8')) as Manifest;
  const sizes = new Map<string, number>();
  const kb = async (key: string) => {
    const file = manifest[key]!.file;
    if (!sizes.has(file)) sizes.set(file, gzipSync(await readFile(join(webRoot, file))).length / 1024);
    return sizes.get(file)!;
  };
  const total = async (keys: Set<string>) => {
    let sum = 0;
    for (const key of keys) sum += await kb(key);
    return sum;
  };
  const connectFirst = closure(manifest, 'connect.html', false);
  const connectAll = closure(manifest, 'connect.html', true);
  const appAll = closure(manifest, 'index.html', true);
  const rows: Row[] = [
    { what: 'Connect, pick: JS before the first tile', ours: await total(connectFirst), base: FIRST_TILE_GOAL_KB, unit: 'KiB gz' },
    { what: 'Connect: every chunk it can load', ours: await total(connectAll), base: WHOLE_PAGE_GOAL_KB, unit: 'KiB gz' },
    { what: 'web app (index.html): every chunk', ours: await total(appAll), base: WHOLE_PAGE_GOAL_KB, unit: 'KiB gz' },
  ];
  const firstTile = await Promise.all([...connectFirst].map(async (key) => ({ file: manifest[key]!.file, kb: await kb(key) })));
  return { rows, firstTile };
}

/** An entry's JavaScript chunks: its static imports, followed through; with `dynamic`, what it may import later too. */
function closure(manifest: Manifest, entry: string, dynamic: boolean): Set<string> {
  if (!manifest[entry]) throw new Error(`the Vite manifest has no ${entry}: build the web app (npm run build:web)`);
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    const chunk = manifest[key]!;
    for (const next of chunk.imports ?? []) visit(next);
    if (dynamic) for (const next of chunk.dynamicImports ?? []) visit(next);
  };
  visit(entry);
  return seen;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { rows, firstTile } = await connectBundleBench();
  for (const row of rows) console.log(`${row.what}: ${row.ours.toFixed(1)} ${row.unit} (goal ${row.base})`);
  console.log(`first tile: ${firstTile.map((c) => `${c.file} ${c.kb.toFixed(1)}`).join(', ')}`);
}
