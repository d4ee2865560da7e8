import KeyvPostgres from '@keyv/postgres';
import pg from 'pg';
import { secretsOfUri } from '../../text/redact-uri.js';
import { type Backend, escapeLike, matches, NAMESPACE, parseOrMarkDamaged, type Scan, unusable, keyvOver } from '../backend.js';

const CONNECT_TIMEOUT_MS = 5_000;
// The adapter always uses public.keyv: the raw SQL here names the same table, whatever the role's search_path.
const SCHEMA = 'public';
const TABLE = `${SCHEMA}.keyv`;

/**
 * The adapter, on a pool of our own: the adapter's shared pool is one per process (closing one
 * store would end every other's) and has no error listener (a server closing an idle connection
 * would crash the process).
 */
class OwnPoolPostgres extends KeyvPostgres {
  override async connect() {
    const pool = (this.opts as { pool: pg.Pool }).pool;
    return async (sql: string, values?: unknown[]) => (await pool.query(sql, values)).rows;
  }

  override async disconnect() {
    await (this.opts as { pool: pg.Pool }).pool.end();
  }
}

/** `postgresql://user:password@host:port/database`: one table shared by every machine. */
export async function openPostgres(uri: string, shown: string): Promise<Backend> {
  const pool = new pg.Pool({ connectionString: uri, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, max: 10 });
  pool.on('error', () => undefined); // an idle connection the server dropped; the next query reconnects
  try {
    // The adapter creates its table too, but swallows a refusal: here an unreachable server or a
    // wrong password fails the open, by name, before anything else is tried.
    await pool.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (key VARCHAR(255) PRIMARY KEY, value TEXT)`);
  } catch (error) {
    // Two processes creating the table at once: one of them loses the race on the catalogue.
    if ((error as { code?: string }).code !== '23505') {
      await pool.end().catch(() => undefined);
      throw unusable(shown, error, secretsOfUri(uri));
    }
  }
  const adapter = new OwnPoolPostgres({ uri, schema: SCHEMA, table: 'keyv', pool } as ConstructorParameters<typeof KeyvPostgres>[0]);
  adapter.on('error', () => undefined); // surfaced through throwOnErrors instead
  const keyv = keyvOver(adapter);

  const rowsOf = (rows: { key: string; value: string }[], prefix: string) => {
    const skip = NAMESPACE.length + 1 + prefix.length;
    return rows.map((row): [string, unknown] => [row.key.slice(skip), parseOrMarkDamaged<unknown>(row.value).value]);
  };
  // The server filters on the JSON, so one connector's tiles do not cross the wire with the rest.
  // A value that is not JSON fails the cast: then every row of the prefix comes back and is
  // filtered here, so the record check still names the damaged one.
  const scan: Scan = async (prefix, where, _grouped, page) => {
    const like = `${NAMESPACE}:${escapeLike(prefix + (page?.within ?? ''))}%`;
    // A page in key order, byte by byte (COLLATE "C"), whatever the database's own collation.
    const paged = page ? ` ORDER BY key COLLATE "C" LIMIT ${Math.trunc(page.limit)}` : '';
    if (where) {
      try {
        const { rows } = await pool.query(
          `SELECT key, value FROM ${TABLE} WHERE key LIKE $1 AND (value::jsonb #>> $2::text[]) ${where.not ? 'IS DISTINCT FROM' : '='} $3${paged}`,
          [like, ['value', ...where.field.split('.')], where.equals],
        );
        return rowsOf(rows, prefix);
      } catch (error) {
        if ((error as { code?: string }).code !== '22P02') throw error;
      }
    }
    const { rows } = await pool.query(`SELECT key, value FROM ${TABLE} WHERE key LIKE $1${where ? '' : paged}`, [like]);
    const all = rowsOf(rows, prefix);
    if (!where) return all;
    const kept = all.filter(([, value]) => matches(value, where)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return page ? kept.slice(0, page.limit) : kept;
  };
  // One UPDATE: the row lock makes a second writer wait, then re-check the revision and find it moved on.
  const swap = async (key: string, text: string, expected: number) => {
    const { rowCount } = await pool.query(
      `UPDATE ${TABLE} SET value = $1 WHERE key = $2 AND COALESCE((value::jsonb -> 'value' ->> 'rev')::int, 0) = $3`,
      [text, `${NAMESPACE}:${key}`, expected],
    );
    return rowCount === 1;
  };
  const swapMany = async (entries: { key: string; text: string; expected: number }[]) => {
    if (entries.length === 0) return [];
    const { rows } = await pool.query(
      `UPDATE ${TABLE} AS t SET value = v.value FROM unnest($1::text[], $2::text[], $3::int[]) AS v(key, value, rev) WHERE t.key ` +
        `= v.key AND COALESCE((t.value::jsonb -> 'value' ->> 'rev')::int, 0) = v.rev RETURNING t.key`,
      [entries.map((e) => `${NAMESPACE}:${e.key}`), entries.map((e) => e.text), entries.map((e) => e.expected)],
    );
    const landed = new Set((rows as { key: string }[]).map((row) => row.key));
    return entries.map((e) => landed.has(`${NAMESPACE}:${e.key}`));
  };
  const insert = async (key: string, text: string) =>
    (await pool.query(`INSERT INTO ${TABLE} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, [`${NAMESPACE}:${key}`, text]))
      .rowCount === 1;
  const insertMany = async (entries: { key: string; text: string }[]) => {
    if (entries.length === 0) return;
    await pool.query(`INSERT INTO ${TABLE} (key, value) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (key) DO NOTHING`, [
      entries.map((e) => `${NAMESPACE}:${e.key}`),
      entries.map((e) => e.text),
    ]);
  };
  // FOR SHARE holds the lease row until this write commits: a takeover waits for it, then wins.
  const fencedPut = async (key: string, text: string, lease: string, token: number) =>
    (
      await pool.query(
        `INSERT INTO ${TABLE} (key, value) SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM ${TABLE} WHERE key = $3 AND (value::jsonb -> ` +
          `'value' ->> 'token')::bigint = $4 FOR SHARE) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [`${NAMESPACE}:${key}`, text, `${NAMESPACE}:${lease}`, token],
      )
    ).rowCount === 1;
  return { keyv, scan, swap, swapMany, insert, insertMany, fencedPut, close: () => adapter.disconnect() };
}
