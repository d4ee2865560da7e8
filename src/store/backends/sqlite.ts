import { chmod, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import { type Backend, escapeLike, NAMESPACE, parseOrMarkDamaged, type Scan, unusable, keyvOver } from '../backend.js';

// Several CLI runs and a host's workers may write one file at once: wait for the lock rather
// than surface "database is locked", for longer than any single write can hold it.
const BUSY_TIMEOUT_MS = 30_000;
// The adapter pages its iterator with LIMIT/OFFSET; large pages keep listing linear in practice.
const ITERATION_PAGE = 5_000;

/** `sqlite://<path>`: the embedded default, one file beside the master key. */
export async function openSqlite(uri: string, shown: string): Promise<Backend> {
  const path = uri.replace(/^sqlite:\/\//i, '');
  if (path !== ':memory:')
    await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch((error: unknown) => Promise.reject(unusable(shown, error)));
  const adapter = new KeyvSqlite({ uri, busyTimeout: BUSY_TIMEOUT_MS, iterationLimit: ITERATION_PAGE } as ConstructorParameters<
    typeof KeyvSqlite
  >[0]);
  adapter.on('error', () => undefined); // surfaced through throwOnErrors instead
  try {
    // WAL lets readers go on while one process writes; it is a property of the file, set once.
    await adapter.query('PRAGMA journal_mode=WAL');
    // In WAL mode NORMAL survives a killed process (the commit is in the WAL the OS holds) and keeps
    // the file consistent on power loss, losing at most the last commits; FULL would fsync every
    // sync checkpoint (one a page).
    await adapter.query('PRAGMA synchronous=NORMAL');
    // Nothing in it is plaintext, but names and identities are nobody else's business.
    if (path !== ':memory:') await chmod(path, 0o600).catch(() => undefined);
  } catch (error) {
    await adapter.disconnect().catch(() => undefined);
    throw unusable(shown, error);
  }
  const keyv = keyvOver(adapter);
  // One SELECT instead of keyv's LIMIT/OFFSET pages, and a filter SQLite evaluates on the JSON,
  // so a host listing one connector's tiles does not parse every record in JavaScript. A value that
  // is not JSON comes through either way, so the record check names it as damaged.
  const scan: Scan = async (prefix, where, _grouped, page, bulk) => {
    const start = `${NAMESPACE}:${prefix}${page?.within ?? ''}`;
    const keys = keyRange(start, bulk === true && !page);
    const filter = where ? ` AND (NOT json_valid(value) OR json_extract(value, ?) ${where.not ? 'IS NOT' : '='} ?)` : '';
    // A page in key order: the primary key's order, so SQLite walks the index and stops at the limit.
    const paged = page ? ' ORDER BY key LIMIT ?' : '';
    const rows = (await adapter.query(`SELECT key, value FROM keyv WHERE ${keys.sql}${filter}${paged}`, [
      ...keys.params,
      ...(where ? [`$.value.${where.field}`, where.equals] : []),
      ...(page ? [page.limit] : []),
    ])) as { key: string; value: string }[];
    const skip = NAMESPACE.length + 1 + prefix.length;
    return rows.map((row) => [row.key.slice(skip), parseOrMarkDamaged<unknown>(row.value).value]);
  };
  // One statement, so SQLite's write lock makes it atomic across processes.
  const swap = async (key: string, text: string, expected: number) => {
    const rows = (await adapter.query(
      "UPDATE keyv SET value = ? WHERE key = ? AND COALESCE(json_extract(value, '$.value.rev'), 0) = ? RETURNING key",
      [text, `${NAMESPACE}:${key}`, expected],
    )) as unknown[];
    return rows.length === 1;
  };
  // One statement for the lot, so a rotation writes thousands of records without a commit each.
  // Only rows that exist at the expected revision are selected (a deleted record is not brought
  // back), and each then conflicts with itself and is updated. CROSS JOIN keeps SQLite's planner
  // from looping over the table for each given row (seconds instead of milliseconds).
  const swapMany = async (entries: { key: string; text: string; expected: number }[]) => {
    if (entries.length === 0) return [];
    const rows = (await adapter.query(
      `INSERT INTO keyv (key, value) SELECT v.column1, v.column2 FROM (VALUES ${entries.map(() => '(?, ?, ?)').join(', ')}) AS v ` +
        `CROSS JOIN keyv AS k ON k.key = v.column1 AND COALESCE(json_extract(k.value, '$.value.rev'), 0) = v.column3 WHERE true ` +
        `ON CONFLICT (key) DO UPDATE SET value = excluded.value RETURNING key`,
      entries.flatMap((e) => [`${NAMESPACE}:${e.key}`, e.text, e.expected]),
    )) as { key: string }[];
    const landed = new Set(rows.map((row) => row.key));
    return entries.map((e) => landed.has(`${NAMESPACE}:${e.key}`));
  };
  const insert = async (key: string, text: string) =>
    (
      (await adapter.query('INSERT INTO keyv (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING RETURNING key', [
        `${NAMESPACE}:${key}`,
        text,
      ])) as unknown[]
    ).length === 1;
  // Many rows a statement (SQLite binds at most 32,766 values): one commit for a burst's fan-out, not one a row.
  const insertMany = async (entries: { key: string; text: string }[]) => {
    for (let i = 0; i < entries.length; i += 500) {
      const slice = entries.slice(i, i + 500);
      await adapter.query(
        `INSERT INTO keyv (key, value) VALUES ${slice.map(() => '(?, ?)').join(', ')} ON CONFLICT (key) DO NOTHING`,
        slice.flatMap((e) => [`${NAMESPACE}:${e.key}`, e.text]),
      );
    }
  };
  const fencedPut = async (key: string, text: string, lease: string, token: number) =>
    (
      (await adapter.query(
        "INSERT INTO keyv (key, value) SELECT ?, ? WHERE (SELECT json_extract(value, '$.value.token') FROM keyv WHERE key = ?) = " +
          '? ON CONFLICT (key) DO UPDATE SET value = excluded.value RETURNING key',
        [`${NAMESPACE}:${key}`, text, `${NAMESPACE}:${lease}`, token],
      )) as unknown[]
    ).length === 1;
  return { keyv, scan, swap, swapMany, insert, insertMany, fencedPut, close: () => adapter.disconnect() };
}

/**
 * The keys that start with `start`, as a range on the primary key. SQLite's LIKE is case-insensitive,
 * so it cannot use the key's index: every listing read the whole table (a webhook delivery tick's
 * scans of its outbox took 6 ms each beside 25,000 credentials and audit events, holding the one
 * connection every write waits on; POST /api/v1/credentials ran at half its rate). A range is a
 * search of the index instead. Keys compare as bytes (BINARY), so [start, start with its last
 * character one higher) holds exactly the keys that start with it; a start not ending in ASCII
 * keeps LIKE (no prefix of ours does).
 */
export function keyRange(start: string, tableOrder = false): { sql: string; params: string[] } {
  const last = start.charCodeAt(start.length - 1);
  if (!(last >= 0 && last < 0x7f)) return { sql: "key LIKE ? ESCAPE '\\'", params: [`${escapeLike(start)}%`] };
  // `tableOrder`: a bulk prefix (credentials: half the table, say) read whole is faster in table
  // order than through the index, which costs a lookup a row (1.5x the time for 6,500 of 31,000
  // rows); a unary + keeps SQLite from taking the index, and compares the same.
  const key = tableOrder ? '+key' : 'key';
  return { sql: `${key} >= ? AND ${key} < ?`, params: [start, start.slice(0, -1) + String.fromCharCode(last + 1)] };
}
