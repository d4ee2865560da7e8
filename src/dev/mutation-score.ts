// `npm run mutate:score [reports...]`: one score over the mutation reports of several Stryker runs
// (a whole `npm run mutate` takes hours on two cores, so it is often run a few folders at a time,
// and the server backends run apart: `mutate:postgres`, `mutate:redis`). Each file's result is
// taken from the newest report that holds it. Prints the score per folder and overall (killed and
// timed-out over all valid mutants, as Stryker counts), then every surviving or uncovered mutant.
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

interface Mutant {
  status: string;
  mutatorName: string;
  location: { start: { line: number } };
}
interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

const root = resolve(import.meta.dirname, '../..');
const given = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const paths = given.length > 0 ? given : await reportsIn(join(root, 'reports/mutation'));
if (paths.length === 0) {
  console.error('no mutation reports: run `npm run mutate` first (it writes reports/mutation/mutation.json)');
  process.exit(2);
}

// Oldest first, so a newer report of the same file replaces the older one.
const dated = await Promise.all(paths.map(async (path) => ({ path, at: (await stat(path)).mtimeMs })));
const files = new Map<string, { source: string; mutants: Mutant[] }>();
for (const { path } of dated.sort((a, b) => a.at - b.at)) {
  const report = JSON.parse(await readFile(path, 'utf8')) as Report;
  for (const [file, result] of Object.entries(report.files)) files.set(file, result);
}

const folders = new Map<string, { detected: number; valid: number }>();
const misses: string[] = [];
for (const [file, { source, mutants }] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
  const folder = dirname(file).replace(/\/(backends|readers|writers)$/, '');
  const tally = folders.get(folder) ?? { detected: 0, valid: 0 };
  const lines = source.split('\n');
  for (const mutant of mutants) {
    if (DETECTED.has(mutant.status)) tally.detected++;
    if (!DETECTED.has(mutant.status) && !UNDETECTED.has(mutant.status)) continue;
    tally.valid++;
    if (UNDETECTED.has(mutant.status)) {
      const line = mutant.location.start.line;
      misses.push(`${mutant.status.padEnd(10)} ${file}:${line} ${mutant.mutatorName}: ${lines[line - 1]?.trim().slice(0, 100)}`);
    }
  }
  folders.set(folder, tally);
}

const score = ({ detected, valid }: { detected: number; valid: number }) =>
  valid === 0 ? '-' : `${((100 * detected) / valid).toFixed(2)}%`;
let total = { detected: 0, valid: 0 };
for (const [folder, tally] of [...folders].sort(([a], [b]) => a.localeCompare(b))) {
  console.log(`${folder.padEnd(20)} ${score(tally).padStart(8)}  ${tally.detected}/${tally.valid}`);
  total = { detected: total.detected + tally.detected, valid: total.valid + tally.valid };
}
console.log(`${'all'.padEnd(20)} ${score(total).padStart(8)}  ${total.detected}/${total.valid}`);
if (!process.argv.includes('--quiet')) console.log(`\n${misses.join('\n')}`);

async function reportsIn(folder: string): Promise<string[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  return names.filter((name) => name.endsWith('.json')).map((name) => join(folder, name));
}
