import { createClient } from '@keyv/redis';

export interface Readiness {
  /** True when every check answered within the bound; never says which failed (the probe is unauthenticated). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export interface ReadinessOptions {
  /** The store answers a read and the master key opens (KeyService.checkReady). */
  store: () => Promise<unknown>;
  /** Redis servers this process needs (CREDPORT_QUEUE, CREDPORT_REDIS): each must answer PING. */
  redis?: readonly ProbeClient[];
}

// A load balancer's probe has its own timeout (Kubernetes: 1 s by default): answer within it.
export const READY_WITHIN_MS = 1_000;

/**
 * /readyz: every check at once, each bounded; a check that throws or is late makes the process
 * not ready. A check answering late is not waited for by the next probe (each probe starts afresh).
 */
export function readiness(options: ReadinessOptions): Readiness {
  const checks: (() => Promise<unknown>)[] = [options.store, ...(options.redis ?? []).map((client) => () => client.ping())];
  return {
    async ready() {
      const results = await Promise.all(
        checks.map((check) =>
          within(check(), READY_WITHIN_MS).then(
            () => true,
            () => false,
          ),
        ),
      );
      return results.every(Boolean);
    },
    async close() {
      await Promise.all((options.redis ?? []).map((client) => client.close()));
    },
  };
}

export interface ProbeClient {
  ping(): Promise<unknown>;
  /** The underlying client, for BullMQ's job counts on the same connection. */
  readonly client: unknown;
  close(): Promise<void>;
}

/**
 * A Redis client of the probe's own: not the queue's or the rate windows' (whose commands wait for a
 * reconnect, or whose state the process's connection watch reports), so a probe never queues behind
 * them nor adds to what the process says about its servers. Commands fail at once while it is away;
 * it reconnects by itself, so the probe turns ok again when the server is back.
 */
export function probeClient(url: string): ProbeClient {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: READY_WITHIN_MS, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 1_000) },
  });
  // Each failed ping says so itself; the client's own error events are its reconnect attempts.
  client.on('error', () => undefined);
  const connecting = client.connect().catch(() => undefined);
  return {
    client,
    ping: async () => {
      if (!client.isReady) throw new Error('not connected');
      return client.ping();
    },
    close: async () => {
      await connecting;
      if (client.isOpen) await client.close().catch(() => undefined);
      else client.destroy();
    },
  };
}

export function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
