import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { JsonlWriter } from '../../src/sync/writers/jsonl-writer.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

let dir: string;
beforeEach(async () => (dir = await tempHome()));
afterEach(() => removeHome(dir));

const tags = (from: number, count: number, label = 'tag') =>
  Array.from({ length: count }, (_, i) => ({ id: `tag_${from + i}`, name: `${label} ${from + i}` }));
const lines = (records: unknown[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');
const fileRecords = async () =>
  (await readFile(join(dir, 'tags.jsonl'), 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);

async function writePages(offset: number, pages: unknown[][]): Promise<number> {
  const writer = await JsonlWriter.open(dir, 'tags', offset);
  let end = offset;
  try {
    for (const page of pages) end = (await writer.write(page)).offset!;
  } finally {
    await writer.close();
  }
  return end;
}

describe('the JSONL writer cuts its file back to the checkpoint', () => {
  it('a new run that finds fewer records than the last one (400 tags, now 300) leaves none of the old lines', async () => {
    const first = tags(0, 400);
    await writePages(0, [first.slice(0, 100), first.slice(100, 200), first.slice(200, 300), first.slice(300, 400)]);
    expect(await fileRecords()).toHaveLength(400);

    const second = tags(1000, 300, 'renamed');
    const end = await writePages(0, [second.slice(0, 100), second.slice(100, 200), second.slice(200, 300)]);
    expect(await fileRecords()).toEqual(second);
    expect(end).toBe(Buffer.byteLength(lines(second)));
  });

  it('a resumed page that changed since the kill replaces what the killed run wrote past the checkpoint', async () => {
    const page1 = tags(0, 3);
    const checkpoint = await writePages(0, [page1]);
    // Killed after writing page 2, before its checkpoint: these bytes are past the checkpoint.
    await writeFile(join(dir, 'tags.jsonl'), lines([...page1, ...tags(3, 5, 'before the kill')]));

    // Re-read, page 2 has fewer and different records now.
    const page2 = tags(3, 2, 'after the kill');
    await writePages(checkpoint, [page2]);
    expect(await fileRecords()).toEqual([...page1, ...page2]);
  });

  it('refuses a file shorter than its checkpoint instead of padding it', async () => {
    await writeFile(join(dir, 'tags.jsonl'), lines(tags(0, 1)));
    const file = join(dir, 'tags.jsonl');
    await expect(JsonlWriter.open(dir, 'tags', 10_000)).rejects.toMatchObject({
      code: 'destination_changed',
      exitCode: 2,
      message: `${file} is shorter than the sync's checkpoint (${lines(tags(0, 1)).length} < 10000 bytes): it was changed outside credport; run the sync with --full-refresh`,
    });
  });
});
