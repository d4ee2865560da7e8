// Start-up figures for npm run bench: a short command's wall clock beside `node -e 0` in the same
// run, since a CLI that loads every module for every command is slow before it does anything.
import { fileURLToPath } from 'node:url';
import { openCredport } from '../../src/open-credport.js';
import { measureChild } from './measure-child.js';
import type { Row } from './credentials-bench.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const TILES = 20;

export async function startupBench(home: string, rounds: number): Promise<Row[]> {
  const credport = await openCredport({ home, env: {} });
  for (let i = 0; i < TILES; i++) {
    await credport.credentials.create({
      connector: 'front',
      values: { name: `Startup ${i}`, apiKey: `front_token_${i}_abcdefghijkl` },
      verify: false,
    });
  }
  await credport.close();
  const env = { ...process.env, CREDPORT_HOME: home };
  const commands: [string, string[]][] = [
    ['node -e 0', ['-e', '0']],
    ['credport --help', [CLI, '--help']],
    [`credport credentials list (${TILES} tiles)`, [CLI, 'credentials', 'list']],
  ];
  const samples = new Map(commands.map(([what]) => [what, [] as number[]]));
  for (const [, args] of commands) await measureChild(args, env, { peak: false }); // warm the file cache
  // Interleaved, so drift in the machine's load hits every command alike.
  for (let round = 0; round < rounds; round++) {
    for (const [what, args] of commands) samples.get(what)!.push((await measureChild(args, env, { peak: false })).ms);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const node = median(samples.get('node -e 0')!);
  return commands.slice(1).map(([what]) => ({ what, ours: median(samples.get(what)!), base: node, unit: 'ms' }));
}
