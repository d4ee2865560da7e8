import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { openCredport } from '../../src/open-credport.js';
import { FakeFront } from '../helpers/fake-front.js';
import { fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';
import { rawStore, STORE_KIND, testStoreUri } from '../helpers/test-store.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = `${ROOT}test/helpers/change-credential-child.ts`;

interface Result {
  op: 'update' | 'test' | 'rotate';
  ok: boolean;
  revision?: number;
  name?: string;
  hint?: string;
  code?: string;
  message?: string;
}

function runChild(job: object): Promise<Result[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${ROOT}node_modules/tsx/dist/cli.mjs`, CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Result[]) : reject(new Error(`child exited ${code}: ${out}`))));
    child.stdin.end(JSON.stringify(job));
  });
}

let front: FakeFront;
let home: string;
let storeUri: string | undefined;
beforeAll(async () => (front = await FakeFront.start()));
afterAll(() => front.close());
beforeEach(async () => {
  home = await tempHome();
  storeUri = await testStoreUri();
});
afterEach(() => removeHome(home));

describe(`one credential changed from 4 processes at once, on ${STORE_KIND}`, () => {
  it('loses no update: 52 concurrent update, test and rotate calls end as some serial order of them would', async () => {
    const masterKey = randomMasterKey();
    const first = fakeToken('first');
    front.allow(first);
    const credport = await openCredport({ home, storeUri, masterKey, env: {} });
    const { id } = await credport.credentials.create({ connector: 'front', values: { name: 'Shared', apiKey: first }, baseUrl: front.url });
    await credport.close();

    // 4 processes, 13 calls each, all in flight together: 6 renames, 4 tests, 3 rotations apiece.
    const tokens: string[] = [];
    const jobs = [0, 1, 2, 3].map((p) => ({
      home,
      storeUri,
      masterKey,
      id,
      calls: Array.from({ length: 13 }, (_, i) => {
        if (i % 4 === 1) return { op: 'test' };
        if (i % 4 === 3 && i < 12) {
          const token = fakeToken(`p${p}c${i}`);
          tokens.push(token);
          front.allow(token);
          return { op: 'rotate', token };
        }
        return { op: 'update', name: `name p${p} c${i}` };
      }),
    }));
    const results = (await Promise.all(jobs.map(runChild))).flat();
    expect(results).toHaveLength(52);

    // A call either landed or was refused by name as a conflict: nothing else, nothing silent.
    const refused = results.filter((r) => !r.ok);
    for (const r of refused) expect(r).toMatchObject({ code: 'write_conflict', message: expect.stringContaining('try again') });
    const writes = results.filter((r) => r.ok && r.op !== 'test');
    const tests = results.filter((r) => r.ok && r.op === 'test');
    expect(writes.length).toBeGreaterThanOrEqual(30); // most of the 40 writes land despite the contention

    // Every landed rename or rotation got a revision of its own: two writers never built on the same one.
    const revisions = writes.map((r) => r.revision!);
    expect(new Set(revisions).size).toBe(revisions.length);

    const reopened = await openCredport({ home, storeUri, masterKey, env: {} });
    try {
      const final = await reopened.credentials.show(id);
      // Each write added exactly one: the final revision counts them (tests write only when the secret they checked is still the saved one).
      expect(final.revision).toBeGreaterThanOrEqual(writes.length);
      expect(final.revision).toBeLessThanOrEqual(writes.length + tests.length);
      // The state is that of the last write in revision order: its name, and the last rotation's secret.
      const lastRename = writes.filter((r) => r.op === 'update').sort((a, b) => b.revision! - a.revision!)[0]!;
      const lastRotation = writes.filter((r) => r.op === 'rotate').sort((a, b) => b.revision! - a.revision!)[0]!;
      expect(final.name).toBe(lastRename.name);
      expect(final.secretHint).toBe(lastRotation.hint);
      front.seen.length = 0;
      await reopened.credentials.test(id);
      const sent = front.seen.at(-1)?.authorization?.replace('Bearer ', '');
      expect(sent?.slice(-4)).toBe(lastRotation.hint);
      expect(tokens).toContain(sent);
    } finally {
      await reopened.close();
    }
    const raw = await rawStore(home, storeUri);
    try {
      expect((await raw.bytes()).includes(Buffer.from(first))).toBe(false);
    } finally {
      await raw.close();
    }
  }, 60_000);
});

describe(`many records compared and set in one step (a key rotation's writes), on ${STORE_KIND}`, () => {
  it('writes each record only at the revision it was read at, and never brings back a deleted one', async () => {
    const { openKeyv } = await import('../../src/store/open-keyv.js');
    const { Collection } = await import('../../src/store/collection.js');
    const opened = await openKeyv(storeUri ?? `sqlite://${home}/credport.sqlite`);
    try {
      const things = new Collection<{ id: string; rev?: number; n: string }>(
        opened,
        'thing:',
        (value) => value as { id: string; rev?: number; n: string },
      );
      for (const id of ['a', 'b', 'c', 'd']) await things.put(id, { id, rev: 3, n: 'old' });
      await things.put('b', { id: 'b', rev: 4, n: 'other' }); // moved on since it was read
      await things.delete('c'); // gone since it was read
      const landed = await things.swapMany(['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, value: { id, rev: 4, n: 'new' }, expected: 3 })));
      expect(landed).toEqual([true, false, false, true, false]);
      expect(await things.getMany(['a', 'b', 'c', 'd', 'e'])).toEqual([
        { id: 'a', rev: 4, n: 'new' },
        { id: 'b', rev: 4, n: 'other' },
        undefined,
        { id: 'd', rev: 4, n: 'new' },
        undefined,
      ]);
      // The filtered read a rotation's later passes use: only what is not yet at a value (absent counts).
      const left = await things.entries({ field: 'n', equals: 'new', not: true });
      expect(left.map(([id]) => id)).toEqual(['b']);
    } finally {
      await opened.close();
    }
  });
});
