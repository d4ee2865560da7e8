// Write figures for npm run bench: records a second pushed into the emulator by `credport sync`
// (JSONL file -> Front contacts) beside a bare got loop posting the same bodies.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { measureChild } from './measure-child.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const BASELINE = fileURLToPath(new URL('./got-post-baseline.mjs', import.meta.url));

export async function writeThroughput(home: string, records: number, rounds: number) {
  const ours: number[] = [];
  const base: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // A fresh emulator and handles per round: every contact is new to Front, for both runs.
    const emulator = await new FrontEmulator().start();
    const token = [...emulator.tokens][0]!;
    const dir = join(home, `in-${round}`);
    await mkdir(dir, { recursive: true });
    const contact = (who: string, i: number) =>
      JSON.stringify({ name: `Contact ${i}`, handles: [{ source: 'email', handle: `${who}${round}-${i}@example.com` }] });
    await writeFile(join(dir, 'contacts.jsonl'), `${Array.from({ length: records }, (_, i) => contact('c', i)).join('\n')}\n`);
    await writeFile(join(home, `baseline-${round}.jsonl`), `${Array.from({ length: records }, (_, i) => contact('b', i)).join('\n')}\n`);

    const credport = await openCredport({ home, env: {} });
    const tile = await credport.credentials.create({ connector: 'front', values: { name: 'bench', apiKey: token }, baseUrl: emulator.url });
    const source = await credport.configs.addSource({ name: 'bench', connector: 'jsonl', path: dir });
    const destination = await credport.configs.addDestination({
      name: 'bench',
      connector: 'front',
      credentialId: tile.id,
      operations: { contacts: 'contacts.create' },
    });
    await credport.close();
    const env = { ...process.env, CREDPORT_HOME: home, FRONT_TOKEN: token };

    base.push((await measureChild([BASELINE, `${emulator.url}/contacts`, join(home, `baseline-${round}.jsonl`)], env)).ms);
    ours.push((await measureChild([CLI, 'sync', source.id, '--to', destination.id], env)).ms);
    if (emulator.writes.contacts.size !== 2 * records)
      throw new Error(`expected ${2 * records} contacts, the emulator has ${emulator.writes.contacts.size}`);
    await emulator.stop();
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const ratios = ours.map((ms, i) => base[i]! / ms);
  return { oursRps: records / (median(ours) / 1000), baseRps: records / (median(base) / 1000), ratio: median(ratios), ratios };
}
