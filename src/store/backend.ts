// The contract between the store factory (open-keyv.ts) and each backend module (backends/*): what
// a backend opens and the helpers they share. Its own module so that a backend never imports the
// factory that loads it (which would make an import circle).
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import { StoreError } from '../errors.js';
import { failureReason } from '../text/failure-reason.js';

/** Every key credport writes starts `credport:`, on every backend. */
export const NAMESPACE = 'credport';

/** What a collection of records uses of an opened store. */
export interface StoreAccess {
  keyv: Keyv;
  /** The URI as it may be printed: its password replaced by the marker of redact.ts. */
  shown: string;
  /** The backend's own query for a prefix (and one equal field), where it has one: listing without reading every record. */
  scan?: Scan;
  /** Where the backend cannot filter values itself (Redis): sets of ids by a field's value, kept by the collection. */
  groups?: GroupIndex;
  /** Compare-and-set on the server: writes `text` at the full key only if the stored record's `rev` (0 when absent) equals `expected`. */
  swap?: (key: string, text: string, expected: number) => Promise<boolean>;
  /** `swap` of many records in one server step (a key rotation): each lands or not as its own swap would. */
  swapMany?: (entries: { key: string; text: string; expected: number }[]) => Promise<boolean[]>;
  /** Writes `text` at the full key only if nothing is there yet; true if it did. */
  insert?: (key: string, text: string) => Promise<boolean>;
  /** insert of many records in one server step; a key already there keeps its record. */
  insertMany?: (entries: { key: string; text: string }[]) => Promise<void>;
  /** Writes `text` at the full key only while the lease record at `lease` still holds `token`, in one step on the server. */
  fencedPut?: (key: string, text: string, lease: string, token: number) => Promise<boolean>;
}

export interface OpenedKeyv extends StoreAccess {
  close(): Promise<void>;
}

/**
 * The records under a key prefix as [key after the prefix, value], optionally only those whose
 * `field` equals a value (and damaged ones, so the record check names them). `grouped`: the
 * collection keeps a group index on that field. `bulk`: the prefix holds much of the store (credentials,
 * audit events), which a backend may read by walking the table rather than an index (SQLite: keyRange in backends/sqlite.ts).
 */
export type Scan = (prefix: string, where?: Where, grouped?: boolean, page?: ScanPage, bulk?: boolean) => Promise<[string, unknown][]>;

/**
 * The first records in key order, at most `limit` of them, whose key goes on with `within` after the
 * prefix: a burst of thousands is read a slice at a time, never all at once.
 */
export interface ScanPage {
  limit: number;
  within?: string;
}

/** A filter on one field of the records (`a.b` for a nested one): equal to a value, or with `not`, anything else (absent included). */
export interface Where {
  field: string;
  equals: string;
  not?: boolean;
}

/** What a backend module opens: everything but the printable URI, which openKeyv adds. */
export type Backend = Omit<OpenedKeyv, 'shown'>;

export interface GroupIndex {
  add(prefix: string, field: string, value: string, id: string): Promise<void>;
  remove(prefix: string, field: string, value: string, id: string): Promise<void>;
}

/** `secrets`: the URI's password, scrubbed from a driver's message before it is cut short. */
export function unusable(shown: string, error: unknown, secrets: readonly string[] = []): StoreError {
  return new StoreError('store_unavailable', `store ${shown} cannot be used: ${failureReason(error, secrets)}`);
}

/** A value that is not JSON comes back as an empty record, which the record check names as damaged by its key. */
export function parseOrMarkDamaged<Value>(text: string): { value?: Value } {
  try {
    return JSON.parse(text) as { value?: Value };
  } catch {
    return { value: { damaged: 'not valid JSON' } as Value };
  }
}

// Shared by the backends, here so that loading one backend never loads another's driver.

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A row the filter keeps: its field equals the value, or it is damaged (so the record check names it). */
export function matches(value: unknown, where: Where): boolean {
  const record = value as Record<string, unknown> | null;
  if (record === null || typeof record !== 'object' || 'damaged' in record) return true;
  let field: unknown = record;
  for (const part of where.field.split('.'))
    field = field !== null && typeof field === 'object' ? (field as Record<string, unknown>)[part] : undefined;
  return (field === where.equals) !== (where.not === true);
}

/**
 * The keyv over a backend's adapter, the same on every backend: credport's namespace, errors thrown
 * (a store that fails says so), and records as plain JSON. keyv's default deserializer runs a reviver
 * over every value, which made listing 10,000 tiles about 3x slower than JSON.parse (npm run bench).
 * `useKeyPrefix: false` where the adapter prefixes the keys itself (Redis).
 */
export function keyvOver(adapter: KeyvStoreAdapter, options: { useKeyPrefix?: boolean } = {}): Keyv {
  const keyv = new Keyv({
    store: adapter,
    namespace: NAMESPACE,
    ...options,
    throwOnErrors: true,
    serialize: JSON.stringify,
    deserialize: parseOrMarkDamaged,
  });
  keyv.on('error', () => undefined); // surfaced through throwOnErrors instead
  return keyv;
}
