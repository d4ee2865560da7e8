import { StoreError } from '../errors.js';
import type { EventEmitter } from 'node:events';
// Types only: a command that merely watches (worker, serve at --help) loads no Redis driver.
import type { RedisClient } from './connect-redis.js';

/** One server's state as this process sees it through its clients: down while any of them is. */
export interface ServerState {
  /** `the queue (CREDPORT_QUEUE redis://127.0.0.1:6379)`: what it is for, its URI without the password. */
  server: string;
  up: boolean;
  /** When it went down or came back (ms since the epoch). */
  since: number;
  /** The client's last error while down. */
  error?: string;
  /** The code a process that gives up on it exits with. */
  unavailable: 'queue_unavailable' | 'store_unavailable';
}

/**
 * The emitter a client's events come from. createClient returns `Object.create(client)`: listeners
 * added through that wrapper land in a table of the wrapper's own as soon as removing one empties
 * it, and the client never emits there (which is how a watch of the wrapper heard nothing).
 */
export function eventsOf(client: RedisClient): EventEmitter {
  return (client as unknown as { _self?: EventEmitter })._self ?? (client as unknown as EventEmitter);
}

type Observer = (client: RedisClient, server: string, unavailable: ServerState['unavailable']) => void;

// Process-wide, like the signals a process handles: the clients are made deep inside the store, the
// shared rate windows and the queue, and the process (a worker, serve) decides what a lost server means.
const clients = new Map<RedisClient, { server: string; unavailable: ServerState['unavailable'] }>();
const observers = new Set<Observer>();

/** Called by connectRedis for every client it connects. */
export function track(client: RedisClient, server: string, unavailable: ServerState['unavailable']): void {
  clients.set(client, { server, unavailable });
  // A client closed on purpose is no longer the process's concern.
  eventsOf(client).once('end', () => clients.delete(client));
  for (const observe of observers) observe(client, server, unavailable);
}

export interface WatchOptions {
  /** How long a server may stay away before `onLost` (the process then exits for its supervisor to restart it). */
  giveUpAfterMs: number;
  onChange?: (state: ServerState) => void;
  onLost: (state: ServerState) => void;
}

export interface ConnectionWatch {
  /** Each server's state now. */
  states(): ServerState[];
  stop(): void;
}

/**
 * Watches every Redis client of this process, those connected already and those to come: says when
 * a server goes away and comes back, and gives up on one that stays away longer than the bound.
 * node-redis reconnects by itself (backoff up to 2 s); this is the bound it lacks.
 */
export function watchRedisConnections(options: WatchOptions): ConnectionWatch {
  const down = new Map<RedisClient, { since: number; error?: string }>();
  const states = new Map<string, ServerState>();
  const serverOf = new Map<RedisClient, string>();
  const detach: (() => void)[] = [];
  let lost = false;

  const codes = new Map<string, ServerState['unavailable']>();
  const refresh = (server: string) => {
    const away = [...down].filter(([client]) => serverOf.get(client) === server).map(([, d]) => d);
    const before = states.get(server);
    const up = away.length === 0;
    if (before && before.up === up) {
      if (!up && away[0]?.error) before.error = away[0].error;
      return;
    }
    const state: ServerState = {
      server,
      up,
      unavailable: codes.get(server) ?? 'store_unavailable',
      since: up ? Date.now() : Math.min(...away.map((d) => d.since)),
      ...(!up && away[0]?.error ? { error: away[0].error } : {}),
    };
    states.set(server, state);
    // The first "up" is the connect itself, not news.
    if (before || !up) options.onChange?.({ ...state });
  };

  const observe: Observer = (client, server, unavailable) => {
    serverOf.set(client, server);
    codes.set(server, unavailable);
    const wentDown = (error?: Error) => {
      const was = down.get(client);
      down.set(client, {
        since: was?.since ?? Date.now(),
        ...(error?.message ? { error: error.message } : was?.error ? { error: was.error } : {}),
      });
      refresh(server);
    };
    const onError = (error: Error) => wentDown(error);
    const onReconnecting = () => wentDown();
    const onReady = () => {
      down.delete(client);
      refresh(server);
    };
    const onEnd = () => {
      // Closed on purpose: forget it without calling its server down.
      down.delete(client);
      serverOf.delete(client);
      refresh(server);
    };
    const events = eventsOf(client);
    events.on('error', onError);
    events.on('reconnecting', onReconnecting);
    events.on('ready', onReady);
    events.once('end', onEnd);
    detach.push(() => {
      events.off('error', onError);
      events.off('reconnecting', onReconnecting);
      events.off('ready', onReady);
      events.off('end', onEnd);
    });
    if (!client.isReady) wentDown();
    else refresh(server);
  };

  for (const [client, { server, unavailable }] of clients) observe(client, server, unavailable);
  observers.add(observe);
  const timer = setInterval(
    () => {
      if (lost) return;
      for (const state of states.values()) {
        if (state.up || Date.now() - state.since < options.giveUpAfterMs) continue;
        lost = true;
        return options.onLost({ ...state });
      }
    },
    Math.min(1_000, Math.max(50, Math.floor(options.giveUpAfterMs / 4))),
  );
  // The watch never keeps a process alive by itself.
  timer.unref();
  return {
    states: () => [...states.values()].map((s) => ({ ...s })),
    stop() {
      clearInterval(timer);
      observers.delete(observe);
      for (const undo of detach) undo();
    },
  };
}

/** The error a process exits with when a server stayed away past its bound (exit 5). */
export function lostServerError(state: ServerState, what: string): StoreError {
  const away = Math.round((Date.now() - state.since) / 1000);
  return new StoreError(
    state.unavailable,
    `lost ${state.server} ${away} s ago (${state.error ?? 'no answer'}) and it did not come back within CREDPORT_RETRY_FOR; ` +
      `exiting for a supervisor to start ${what} again`,
  );
}
