// The store a credential or sync suite runs on: jest's sqlite, postgres and redis projects run
// those suites once each (jest.config.js), with the global CREDPORT_TEST_STORE naming the store.
import { freshPostgresUri, freshRedisUri } from './test-servers.js';

export type StoreKind = 'sqlite' | 'postgres' | 'redis';

export const STORE_KIND = ((globalThis as { CREDPORT_TEST_STORE?: string }).CREDPORT_TEST_STORE ?? 'sqlite') as StoreKind;

/** The store URI for one test, empty; undefined for SQLite, whose file lives in the test's home. */
export async function testStoreUri(): Promise<string | undefined> {
  if (STORE_KIND === 'postgres') return freshPostgresUri();
  if (STORE_KIND === 'redis') return freshRedisUri();
  return undefined;
}

export interface RawStore {
  /** A record's stored text (what the backend holds, around keyv's envelope), by full key. */
  get(key: string): Promise<string | undefined>;
  /** Writes a record's stored text, creating the key if need be. */
  set(key: string, text: string): Promise<void>;
  /** Every key and value the store holds, and for SQLite every byte of its files: for grepping. */
  bytes(): Promise<Buffer>;
  close(): Promise<void>;
}

/** The store under credport, read and written around it: what an attacker with the database sees. */
export async function rawStore(home: string, storeUri: string | undefined): Promise<RawStore> {
  if (storeUri?.startsWith('postgresql:')) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: storeUri });
    await client.connect();
    return {
      get: async (key) => (await client.query('SELECT value FROM keyv WHERE key = $1', [key])).rows[0]?.value,
      set: async (key, text) =>
        void (await client.query('INSERT INTO keyv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [
          key,
          text,
        ])),
      bytes: async () =>
        Buffer.from((await client.query('SELECT key, value FROM keyv')).rows.map((r) => `${r.key}\n${r.value}`).join('\n')),
      close: () => client.end(),
    };
  }
  if (storeUri?.startsWith('redis:')) {
    const { createClient } = await import('@keyv/redis');
    const client = createClient({ url: storeUri });
    await client.connect();
    return {
      get: async (key) => (await client.get(key)) ?? undefined,
      set: async (key, text) => void (await client.set(key, text)),
      bytes: async () => {
        const keys = await client.keys('*');
        const dumps = await Promise.all(
          keys.map(
            async (key) =>
              `${key}\n${(await client.type(key)) === 'string' ? await client.get(key) : (await client.sMembers(key)).join(',')}`,
          ),
        );
        return Buffer.from(dumps.join('\n'));
      },
      close: async () => void (await client.close()),
    };
  }
  const { default: KeyvSqlite } = await import('@keyv/sqlite');
  const { join } = await import('node:path');
  const { allBytes } = await import('./temp-home.js');
  const adapter = new KeyvSqlite({ uri: storeUri ?? `sqlite://${join(home, 'credport.sqlite')}`, busyTimeout: 5000 } as never);
  return {
    get: async (key) => ((await adapter.query('SELECT value FROM keyv WHERE key = ?', [key])) as { value: string }[])[0]?.value,
    set: async (key, text) =>
      void (await adapter.query('INSERT INTO keyv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [
        key,
        text,
      ])),
    bytes: () => allBytes(home),
    close: () => adapter.disconnect(),
  };
}

/** Every byte the store and the home folder hold (the key file and synced files included). */
export async function storedBytes(home: string, storeUri: string | undefined): Promise<Buffer> {
  const raw = await rawStore(home, storeUri);
  try {
    const { allBytes } = await import('./temp-home.js');
    return Buffer.concat([await raw.bytes(), await allBytes(home)]);
  } finally {
    await raw.close();
  }
}
