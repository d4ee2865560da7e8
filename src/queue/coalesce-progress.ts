import type { SyncEvent } from '../generated/sync-event.js';

/**
 * A worker's events cross Redis to every follower. `page` and `checkpoint` events carry running
 * totals, so a follower loses nothing when it gets only the latest of each stream a few times a
 * second; a fast sync makes hundreds a second, each a Redis script and a parse in every follower.
 * Every other event goes at once, after the progress held back before it, so no milestone is
 * reordered or dropped.
 */
export interface ProgressCoalescer {
  push(event: SyncEvent): void;
  /** Sends what is held back (before a job's end). */
  flush(): void;
}

export function coalesceProgress(send: (event: SyncEvent) => void, everyMs: number): ProgressCoalescer {
  const held = new Map<string, SyncEvent>();
  let timer: NodeJS.Timeout | undefined;
  function flush() {
    if (timer) clearTimeout(timer);
    timer = undefined;
    for (const event of held.values()) send(event);
    held.clear();
  }
  return {
    push(event) {
      if (event.event !== 'page' && event.event !== 'checkpoint') {
        flush();
        send(event);
        return;
      }
      const key = `${event.event}\u0000${event.stream}`;
      held.delete(key); // the newest goes last, in the order they happened
      held.set(key, event);
      timer ??= setTimeout(flush, everyMs).unref();
    },
    flush,
  };
}
