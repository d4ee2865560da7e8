import { chmod, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import { StoreError } from '../errors.js';

const NAMESPACE = 'credport';
// Several CLI runs and a host's workers may write one file at once: wait for the lock rather
// than surface "database is locked", for longer than any single write can hold it.
const BUSY_TIMEOUT_MS = 30_000;
// The adapter pages its iterator with LIMIT/OFFSET; large pages keep listing linear in practice.
const ITERATION_PAGE = 5_000;

export interface OpenedKeyv {
  keyv: Keyv;
  /** The backend's own query for a prefix (and one equal field), where it has one: listing without reading every record. */
  scan?: Scan;
  close(): Promise<void>;
}

/** The records under a key prefix as [key after the prefix, value], optionally only those whose `field` equals a value. */
export type Scan = (prefix: string, where?: { field: string; equals: string }) => Promise<[string, unknown][]>;

/** Opens the keyv store a URI names. `sqlite://<path>` is built in; other backends come later. */
export async function openKeyv(uri: string): Promise<OpenedKeyv> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
  if (scheme !== 'sqlite') {
    throw new StoreError('store_unavailable', `store URI scheme "${scheme ?? uri.slice(0, 20)}" is not supported yet; use sqlite://<path>`);
  }
  const path = uri.replace(/^sqlite:\/\//i, '');
  if (path !== ':memory:') await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch((error: unknown) => Promise.reject(unusable(uri, error)));
  const adapter = new KeyvSqlite({ uri, busyTimeout: BUSY_TIMEOUT_MS, iterationLimit: ITERATION_PAGE } as ConstructorParameters<typeof KeyvSqlite>[0]);
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
    throw unusable(uri, error);
  }
  // Records are plain JSON (no Buffers): keyv's default deserializer runs a reviver over every
  // value, which made listing 10,000 tiles about 3x slower than JSON.parse (npm run bench).
  const keyv = new Keyv({ store: adapter, namespace: NAMESPACE, throwOnErrors: true, serialize: JSON.stringify, deserialize: parseOrMarkDamaged });
  keyv.on('error', () => undefined);
  // One SELECT instead of keyv's LIMIT/OFFSET pages, and a filter SQLite evaluates on the JSON,
  // so a host listing one connector's tiles does not parse every record in JavaScript. A value that
  // is not JSON comes through either way, so the record check names it as damaged.
  const scan: Scan = async (prefix, where) => {
    const like = `${NAMESPACE}:${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = (where
      ? await adapter.query("SELECT key, value FROM keyv WHERE key LIKE ? ESCAPE '\\' AND (NOT json_valid(value) OR json_extract(value, ?) = ?)", [like, `$.value.${where.field}`, where.equals])
      : await adapter.query("SELECT key, value FROM keyv WHERE key LIKE ? ESCAPE '\\'", [like])) as { key: string; value: string }[];
    const skip = NAMESPACE.length + 1 + prefix.length;
    return rows.map((row) => [row.key.slice(skip), parseOrMarkDamaged<unknown>(row.value).value]);
  };
  return { keyv, scan, close: () => adapter.disconnect() };
}

export function unusable(uri: string, error: unknown): StoreError {
  const reason = (error as Error)?.message?.replace(/\s+/g, ' ').slice(0, 200) ?? String(error);
  return new StoreError('store_unavailable', `store ${uri} cannot be used: ${reason}`);
}

/** A value that is not JSON comes back as an empty record, which the record check names as damaged by its key. */
function parseOrMarkDamaged<Value>(text: string): { value?: Value } {
  try {
    return JSON.parse(text) as { value?: Value };
  } catch {
    return { value: { damaged: 'not valid JSON' } as Value };
  }
}
