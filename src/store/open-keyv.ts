// The store factory: opens the keyv store a URI names, loading only that backend's driver.
import { StoreError } from '../errors.js';
import { redact } from '../text/redact.js';
import { redactUri, secretsOfUri, SHORTEST_URI_SECRET } from '../text/redact-uri.js';
import type { Backend, OpenedKeyv } from './backend.js';

export type { OpenedKeyv } from './backend.js';

const BACKENDS: Record<string, (uri: string, shown: string) => Promise<Backend>> = {
  // Each backend's driver is loaded only when its URI is used: the CLI starts no slower for them.
  sqlite: async (uri, shown) => (await import('./backends/sqlite.js')).openSqlite(uri, shown),
  postgres: async (uri, shown) => (await import('./backends/postgres.js')).openPostgres(uri, shown),
  postgresql: async (uri, shown) => (await import('./backends/postgres.js')).openPostgres(uri, shown),
  redis: async (uri, shown) => (await import('./backends/redis.js')).openRedis(uri, shown),
  rediss: async (uri, shown) => (await import('./backends/redis.js')).openRedis(uri, shown),
};

/** Opens the keyv store a URI names: `sqlite://<path>`, `postgresql://…` or `redis://…`. */
export async function openKeyv(uri: string): Promise<OpenedKeyv> {
  const shown = redactUri(uri);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
  const open = scheme === undefined ? undefined : BACKENDS[scheme];
  if (!open || !Object.hasOwn(BACKENDS, scheme!)) {
    throw new StoreError(
      'store_unavailable',
      `store URI scheme "${scheme ?? '(none)'}" is not supported; use sqlite://<path>, postgresql://user:password@host/database ` +
        `or redis://host:port`,
    );
  }
  try {
    return { ...(await open(uri, shown)), shown };
  } catch (error) {
    // A driver may quote what it was given: the password never leaves in a message, or in a stack.
    if (error instanceof Error) {
      const secrets = secretsOfUri(uri);
      error.message = redact(error.message, secrets, SHORTEST_URI_SECRET);
      if (error.stack) error.stack = redact(error.stack, secrets, SHORTEST_URI_SECRET);
    }
    throw error;
  }
}
