import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { StoreError } from '../../src/errors.js';
import { Collection } from '../../src/store/collection.js';
import { openKeyv, type OpenedKeyv } from '../../src/store/open-keyv.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';
import { rawStore, STORE_KIND, testStoreUri } from '../helpers/test-store.js';

/** Listing records by a field: each backend's own query, keyv's iterator, and Redis's group sets answer the same. */
interface Row {
  id: string;
  connector: string;
}

let home: string;
let uri: string;
let opened: OpenedKeyv;

const check = (value: unknown, id: string): Row => {
  const row = value as Row;
  if (typeof row?.connector !== 'string' || row.id !== id) throw new StoreError('corrupt_record', `record ${id} is damaged`);
  return row;
};
const grouped = () => new Collection<Row>(opened, 'credential:', check, 'connector');

beforeEach(async () => {
  home = await tempHome();
  uri = (await testStoreUri()) ?? `sqlite://${home}/store.sqlite`;
  opened = await openKeyv(uri);
  const rows = grouped();
  for (let i = 0; i < 30; i++) await rows.put(`c${i}`, { id: `c${i}`, connector: i % 3 === 0 ? 'acme' : 'front' });
  await opened.keyv.set('credentialx:c99', { id: 'c99', connector: 'acme' }); // another prefix that a prefix match without its colon would take
  // Just past the prefix's key range (':' + 1 is ';'), and the prefix in capitals (SQLite's LIKE ignores case).
  await opened.keyv.set('credential;c98', { id: 'c98', connector: 'acme' });
  await opened.keyv.set('CREDENTIAL:c97', { id: 'c97', connector: 'acme' });
  await opened.keyv.set('source:s1', { id: 's1', connector: 'acme' });
});
afterEach(async () => {
  await opened.close();
  await removeHome(home);
});

describe.each([
  ['the backend query', () => new Collection<Row>({ keyv: opened.keyv, shown: opened.shown, scan: opened.scan }, 'credential:', check)],
  [
    'the backend query of a bulk collection (read in table order)',
    () =>
      new Collection<Row>({ keyv: opened.keyv, shown: opened.shown, scan: opened.scan }, 'credential:', check, undefined, undefined, true),
  ],
  ['the keyv iterator', () => new Collection<Row>({ keyv: opened.keyv, shown: opened.shown }, 'credential:', check)],
  ['the group index (where the backend keeps one)', grouped],
])(`Collection listing on ${STORE_KIND} through %s`, (_name, make) => {
  it('lists every record of its prefix, and only those', async () => {
    const all = await make().all();
    expect(all.map((r) => r.id).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `c${i}`).sort());
  });

  it('lists the records whose field equals a value', async () => {
    const acme = await make().where('connector', 'acme');
    expect(acme.map((r) => r.id).sort()).toEqual(['c0', 'c12', 'c15', 'c18', 'c21', 'c24', 'c27', 'c3', 'c6', 'c9']);
    expect(await make().where('connector', "acme' OR 1=1 --")).toEqual([]);
    expect(await make().where('connector', 'acme*')).toEqual([]);
  });

  it('names a damaged record, filtered or not', async () => {
    const raw = await rawStore(home, uri);
    await raw.set('credport:credential:c3', 'not json');
    await raw.close();
    await expect(make().all()).rejects.toThrow('c3');
    await expect(make().where('connector', 'acme')).rejects.toThrow('c3');
  });

  it('pages in id order within a prefix, and only within it', async () => {
    expect((await make().first(3)).map((r) => r.id)).toEqual(['c0', 'c1', 'c10']);
    expect((await make().first(30, { within: 'c2' })).map((r) => r.id)).toEqual([
      'c2',
      'c20',
      'c21',
      'c22',
      'c23',
      'c24',
      'c25',
      'c26',
      'c27',
      'c28',
      'c29',
    ]);
  });

  it('forgets a deleted record, filtered or not', async () => {
    expect(await make().delete('c3')).toBe(true);
    expect((await make().where('connector', 'acme')).map((r) => r.id)).not.toContain('c3');
    expect(await make().all()).toHaveLength(29);
    expect(await make().delete('c3')).toBe(false);
  });
});

describe(`the group index on ${STORE_KIND}`, () => {
  it('lists a group from its set, skipping a member whose record is gone', async () => {
    if (!opened.groups) return expect(STORE_KIND).not.toBe('redis'); // only Redis keeps groups
    await opened.keyv.delete('credential:c0'); // a delete cut short: the member stays, the record does not
    const acme = await grouped().where('connector', 'acme');
    expect(acme.map((r) => r.id)).not.toContain('c0');
    expect(acme).toHaveLength(9);
  });
});

describe(`the one-step writes of ${STORE_KIND}`, () => {
  it('inserts a record only where none is', async () => {
    const text = (name: string) => JSON.stringify({ value: { id: 'n', connector: name } });
    expect(await opened.insert!('credential:n', text('first'))).toBe(true);
    expect(await opened.insert!('credential:n', text('second'))).toBe(false);
    expect(await grouped().get('n')).toEqual({ id: 'n', connector: 'first' });
  });

  it('swaps no records when given none', async () => {
    expect(await opened.swapMany!([])).toEqual([]);
  });
});

describe(`a key prefix on ${STORE_KIND}`, () => {
  it('is matched as written, its wildcard characters (LIKE _ and %, glob * ? [ ]) included', async () => {
    for (const key of ['a*b_[%?:x', 'a*bQ[%?:like', 'aQQb_[%?:glob', 'a*b_[%Q:one', 'a*b_x%?:set'])
      await opened.keyv.set(key, { id: key.split(':')[1], connector: 'c' });
    const odd = new Collection<Row>(opened, 'a*b_[%?:', check);
    expect(await odd.all()).toEqual([{ id: 'x', connector: 'c' }]);
  });
});

describe(`a failing command on ${STORE_KIND}`, () => {
  it('is reported as the store failing, never read as a missing record', async () => {
    if (STORE_KIND !== 'redis') return expect(opened.groups).toBeUndefined(); // a Redis key of another type; SQL stores have none
    const { createClient } = await import('@keyv/redis');
    const client = createClient({ url: uri });
    await client.connect();
    await client.hSet('credport:credential:h', 'field', 'value');
    await client.close();
    await expect(grouped().get('h')).rejects.toMatchObject({ code: 'store_unavailable', message: expect.stringContaining('WRONGTYPE') });
  });
});
