import { createClient } from '@keyv/redis';
import { eventsOf, track } from './connection-watch.js';

const CONNECT_TIMEOUT_MS = 5_000;
// After a server restart the client tries again soon, then every 2 s: no storm on a server coming back.
const reconnectDelay = (retries: number) => Math.min(50 * 2 ** retries, 2_000);

const newClient = (url: string, waitWhileDown: boolean) =>
  createClient({
    url,
    disableOfflineQueue: !waitWhileDown,
    socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: reconnectDelay },
  });

export type RedisClient = ReturnType<typeof newClient>;

export interface ConnectOptions {
  /** What the process uses this server for, as an operator would name it (`the queue (CREDPORT_QUEUE redis://…)`), for its connection state. */
  server: string;
  /** The code a process that gives up on this server exits with. */
  unavailable: 'queue_unavailable' | 'store_unavailable';
  /**
   * Commands sent while the server is away wait for the reconnect instead of failing at once.
   * BullMQ's worker needs this: its fetch loop tries again at once after an error it does not know
   * as a lost connection, and node-redis's "client is offline" is not one, so failing at once made
   * it spin on the microtask queue, starving the timers, sockets and signals that would have
   * reconnected or stopped it (the worker at 100% CPU that ignored SIGTERM).
   */
  waitWhileDown?: boolean;
}

/**
 * A connected client for a long-running process. Connecting fails fast with the first error the
 * client met (a refused connection, a wrong password) or a timeout, never a retry loop; once
 * connected it reconnects by itself, and its state is tracked for the process's connection watch.
 * Without `waitWhileDown`, commands fail at once while the server is away.
 */
export async function connectRedis(url: string, options: ConnectOptions): Promise<RedisClient> {
  const client = newClient(url, options.waitWhileDown === true);
  const events = eventsOf(client);
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`no answer in ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      function fail(error: unknown) {
        clearTimeout(timer);
        events.off('error', fail);
        reject(error);
      }
      events.once('error', fail);
      client.connect().then((connected) => {
        clearTimeout(timer);
        events.off('error', fail);
        resolve(connected);
      }, fail);
    });
  } catch (error) {
    await client.destroy();
    throw error;
  }
  events.on('error', () => undefined); // each command that fails says so itself
  track(client, options.server, options.unavailable);
  return client;
}
