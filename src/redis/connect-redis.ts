import { createClient } from '@keyv/redis';

const CONNECT_TIMEOUT_MS = 5_000;

// While the server is away commands fail at once (no offline queue); the client reconnects in the background.
const newClient = (url: string) =>
  createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000) },
  });

export type RedisClient = ReturnType<typeof newClient>;

/**
 * A connected client for a long-running process. Connecting fails fast with the
 * first error the client met (a refused connection, a wrong password) or a timeout, never a retry loop.
 */
export async function connectRedis(url: string): Promise<RedisClient> {
  const client = newClient(url);
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`no answer in ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      function fail(error: unknown) {
        clearTimeout(timer);
        reject(error);
      }
      client.once('error', fail);
      client.connect().then((connected) => (clearTimeout(timer), resolve(connected)), fail);
    });
  } catch (error) {
    await client.destroy();
    throw error;
  }
  client.removeAllListeners('error');
  client.on('error', () => undefined); // each command that fails says so itself
  return client;
}
