import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { StoreError } from '../../src/errors.js';
import { Collection } from '../../src/store/collection.js';
import { openKeyv, type OpenedKeyv } from '../../src/store/open-keyv.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

/** Listing records by a field: SQLite filters in SQL, other backends in JavaScript; both answer the same. */
interface Row {
  id: string;
  connector: string;
}

let home: string;
let opened: OpenedKeyv;
beforeEach(async () => {
  home = await tempHome();
  opened = await openKeyv(`sqlite://${home}/store.sqlite`);
  const keyv = opened.keyv;
  for (let i = 0; i < 30; i++) await keyv.set(`credential:c${i}`, { id: `c${i}`, connector: i % 3 === 0 ? 'acme' : 'front' });
  await keyv.set('credentialx:c99', { id: 'c99', connector: 'acme' }); // another prefix that LIKE 'credential%' would match
  await keyv.set('source:s1', { id: 's1', connector: 'acme' });
});
afterEach(async () => {
  await opened.close();
  await removeHome(home);
});

const check = (value: unknown, id: string): Row => {
  const row = value as Row;
  if (typeof row?.connector !== 'string' || row.id !== id) throw new StoreError('corrupt_record', `record ${id} is damaged`);
  return row;
};

describe.each([
  ['the SQLite query', () => new Collection<Row>(opened.keyv, 'test', 'credential:', check, opened.scan)],
  ['the keyv iterator', () => new Collection<Row>(opened.keyv, 'test', 'credential:', check)],
])('Collection listing through %s', (_name, make) => {
  it('lists every record of its prefix, and only those', async () => {
    const all = await make().all();
    expect(all.map((r) => r.id).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `c${i}`).sort());
  });

  it('lists the records whose field equals a value', async () => {
    const acme = await make().where('connector', 'acme');
    expect(acme.map((r) => r.id).sort()).toEqual(['c0', 'c12', 'c15', 'c18', 'c21', 'c24', 'c27', 'c3', 'c6', 'c9']);
    expect(await make().where('connector', "acme' OR 1=1 --")).toEqual([]);
  });

  it('names a damaged record, filtered or not', async () => {
    await opened.scan?.('x'); // warm
    const sqlite = (opened.keyv.store as { query: (sql: string, params?: unknown[]) => Promise<unknown> });
    await sqlite.query("INSERT INTO keyv (key, value) VALUES ('credport:credential:bad', 'not json')");
    await expect(make().all()).rejects.toThrow('bad');
    await expect(make().where('connector', 'acme')).rejects.toThrow('bad');
  });
});
