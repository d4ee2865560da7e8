import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import KeyvSqlite from '@keyv/sqlite';
import { keyRange } from '../../src/store/backends/sqlite.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

/**
 * How the SQLite backend selects a key prefix. A prefix scan through LIKE read the whole table on
 * every listing (LIKE ignores case, so SQLite cannot use the key's index): the webhook delivery
 * loop's scans of its few outbox events then cost as much as listing every credential.
 */
let home: string;
let db: KeyvSqlite;
const plan = async (sql: string, params: string[]) =>
  ((await db.query(`EXPLAIN QUERY PLAN SELECT key FROM keyv WHERE ${sql}`, params)) as { detail: string }[]).map((r) => r.detail).join(' ');
const keysOf = async (sql: string, params: string[]) =>
  ((await db.query(`SELECT key FROM keyv WHERE ${sql} ORDER BY key`, params)) as { key: string }[]).map((r) => r.key);

beforeAll(async () => {
  home = await tempHome();
  db = new KeyvSqlite({ uri: `sqlite://${home}/range.sqlite` });
  for (const key of ['p:a:1', 'p:a:2', 'p:a:', 'p:a;', 'p:a;1', 'p:A:3', 'p:a', 'p:b:1', 'p:a-x:1', 'p:é:1', 'p:é;'])
    await db.query('INSERT INTO keyv (key, value) VALUES (?, ?)', [key, '{}']);
});
afterAll(async () => {
  await db.disconnect();
  await removeHome(home);
});

describe('keyRange', () => {
  it('selects exactly the keys that start with the prefix, in the case written', async () => {
    const range = keyRange('p:a:');
    expect(await keysOf(range.sql, range.params)).toEqual(['p:a:', 'p:a:1', 'p:a:2']);
    const bulk = keyRange('p:a:', true);
    expect(await keysOf(bulk.sql, bulk.params)).toEqual(['p:a:', 'p:a:1', 'p:a:2']);
    const accented = keyRange('p:é:');
    expect(await keysOf(accented.sql, accented.params)).toEqual(['p:é:1']);
  });

  it("searches the key's index, or reads in table order for a bulk prefix", async () => {
    const range = keyRange('p:a:');
    expect(await plan(range.sql, range.params)).toMatch(/SEARCH keyv USING .*INDEX/);
    const bulk = keyRange('p:a:', true);
    expect(await plan(bulk.sql, bulk.params)).toMatch(/^SCAN keyv$/);
  });

  it('falls back to LIKE, escaped, for a prefix not ending in ASCII', async () => {
    const odd = keyRange('p:é');
    expect(odd.sql).toContain('LIKE');
    expect(await keysOf(odd.sql, odd.params)).toEqual(['p:é:1', 'p:é;']);
  });
});
