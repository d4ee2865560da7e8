import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport, type Credport } from '../../src/open-credport.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';
import { testStoreUri } from '../helpers/test-store.js';

let emulator: FrontEmulator;
let home: string;
let storeUri: string | undefined;
let credport: Credport;

beforeEach(async () => {
  emulator = await new FrontEmulator({ records: 0 }).start();
  home = await tempHome();
  storeUri = await testStoreUri();
  credport = await openCredport({ home, storeUri, env: {} });
});
afterEach(async () => {
  await credport.close();
  await emulator.stop();
  await removeHome(home);
});

async function syncToFront(files: Record<string, unknown[]>, options: { concurrency?: number; operation?: string } = {}) {
  const folder = join(home, 'in');
  await mkdir(folder, { recursive: true });
  for (const [stream, records] of Object.entries(files))
    await writeFile(join(folder, `${stream}.jsonl`), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const [token] = emulator.tokens;
  const tile = await credport.credentials.create({ connector: 'front', values: { name: 'Front', apiKey: token! }, baseUrl: emulator.url });
  const source = await credport.configs.addSource({ name: 'Files', connector: 'jsonl', path: folder, streams: Object.keys(files) });
  const operations = Object.fromEntries(Object.keys(files).map((stream) => [stream, options.operation ?? `${stream}.create`]));
  const destination = await credport.configs.addDestination({ name: 'Front', connector: 'front', credentialId: tile.id, operations });
  const summary = await credport.syncs.run(source.id, destination.id, options.concurrency ? { concurrency: options.concurrency } : {});
  const rejects = summary.rejects
    ? (await readFile(summary.rejects, 'utf8'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
  return { summary, rejects };
}

describe("a 409 on a record's first attempt is Front refusing it, not an earlier attempt that landed", () => {
  it('a tag that already exists in Front goes to the rejects file with Front\'s words, not to "skipped"', async () => {
    emulator.writes.write('POST', '/tags', { name: 'VIP' }); // made in Front by someone else
    const { summary, rejects } = await syncToFront({ tags: [{ name: 'VIP' }, { name: 'Churned' }] });
    expect(summary.streams.tags).toMatchObject({ records: 2, sent: 1, rejected: 1, skipped: 0 });
    // The rejects file of this source and destination, in the home's syncs folder.
    expect(summary.rejects).toMatch(
      new RegExp(`^${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/syncs/src_[0-9a-f]+__dst_[0-9a-f]+\\.rejects\\.jsonl$`),
    );
    expect(rejects).toEqual([
      expect.objectContaining({
        stream: 'tags',
        row: 1,
        key: 'VIP',
        status: 409,
        reason: expect.stringContaining('409 Conflict: A tag with this name already exists'),
      }),
    ]);
  });

  it('so does a contact that already exists in Front', async () => {
    const handles = [{ source: 'email', handle: 'ada@example.com' }];
    emulator.writes.write('POST', '/contacts', { name: 'Ada', handles });
    const { summary, rejects } = await syncToFront({ contacts: [{ name: 'Ada Lovelace', handles }] });
    expect(summary.streams.contacts).toMatchObject({ sent: 0, rejected: 1, skipped: 0 });
    expect(rejects).toEqual([
      expect.objectContaining({
        stream: 'contacts',
        status: 409,
        reason: expect.stringContaining('A contact with this handle already exists'),
      }),
    ]);
  });
});

describe('streams written side by side to one provider', () => {
  it('write a record the two carry once: the second waits for the first and reads its ledger entry', async () => {
    const people = Array.from({ length: 40 }, (_, i) => ({
      name: `Person ${i}`,
      handles: [{ source: 'email', handle: `p${i}@example.com` }],
    }));
    // In opposite orders too: a stream that reaches a record after the other wrote it must not trust the ledger it read before.
    const { summary, rejects } = await syncToFront(
      { crm: people, newsletter: [...people.slice(20), ...[...people.slice(0, 20)].reverse()] },
      { concurrency: 2, operation: 'contacts.create' },
    );
    expect(rejects).toEqual([]);
    expect(summary.sent).toBe(40);
    expect(summary.skipped).toBe(40);
    const created = emulator.writes.received.filter((w) => w.path === '/contacts');
    expect(created).toHaveLength(40);
  });
});
