import { describe, expect, it } from '@jest/globals';
import { ProviderRejectedError, SyncCancelledError } from '../../src/errors.js';
import type { Collection } from '../../src/store/collection.js';
import { runSync, type StreamPlan, type SyncJob, type SyncState } from '../../src/sync/sync-engine.js';
import type { SyncEvent } from '../../src/sync/sync-events.js';
import type { Page } from '../../src/sync/stream-io.js';

/** The engine alone, with streams whose pages the test releases: what happens between streams, in order. */
function memoryState(): Collection<SyncState> & { saved: SyncState[] } {
  let value: SyncState | undefined;
  const saved: SyncState[] = [];
  return {
    saved,
    get: async () => (value ? structuredClone(value) : undefined),
    // A store whose writes take a varying time: one issued later could otherwise land first.
    put: async (_key: string, next: SyncState) => {
      const copy = structuredClone(next);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
      value = copy;
      saved.push(copy);
    },
  } as unknown as Collection<SyncState> & { saved: SyncState[] };
}

/** A stream of `pages` pages; `gate(n)` (if given) is awaited before page n is yielded, or throws. */
function stream(name: string, pages: number, gate?: (page: number) => Promise<void>): StreamPlan {
  return {
    name,
    scopes: [],
    appendAcrossRuns: false,
    reader: () => ({
      async *pages(): AsyncGenerator<Page> {
        for (let n = 1; n <= pages; n++) {
          await gate?.(n);
          yield { records: [{ id: `${name}-${n}` }], next: n < pages ? String(n + 1) : null };
        }
      },
    }),
    writer: async () => ({ write: async (records) => ({ sent: records.length, rejected: 0, skipped: 0, offset: 0 }), close: async () => undefined }),
  };
}

function job(streams: StreamPlan[], extra: Partial<SyncJob> = {}): SyncJob & { events: SyncEvent[]; rejected: ProviderRejectedError[] } {
  const events: SyncEvent[] = [];
  const rejected: ProviderRejectedError[] = [];
  return {
    key: 'src:dst',
    sourceId: 'src',
    destinationId: 'dst',
    streams,
    fullRefresh: false,
    state: memoryState(),
    rejects: { add: async () => undefined, path: '/dev/null', count: 0 },
    onEvent: (event) => events.push(event),
    onRejected: async (error) => void rejected.push(error),
    events,
    rejected,
    ...extra,
  };
}

const counters = () => ({ rateLimited: 0, retries: 0 });
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe('streams side by side in the engine', () => {
  it('a 401 met while the streams stop for a cancel is the failure: the tile is marked invalid', async () => {
    const stop = new AbortController();
    let release!: () => void;
    const later = new Promise<void>((resolve) => (release = resolve));
    const refused = new ProviderRejectedError('Front rejected the credential: 401 Unauthenticated', 401);
    const plans = [
      // Cancelled at its first checkpoint, then the other stream's page is answered 401.
      stream('tags', 3),
      stream('contacts', 3, async () => {
        await later;
        throw refused;
      }),
    ];
    const run = job(plans, {
      concurrency: 2,
      signal: stop.signal,
      onEvent(event) {
        run.events.push(event);
        if (event.event === 'checkpoint' && !stop.signal.aborted) {
          stop.abort();
          setTimeout(release, 10);
        }
      },
    });
    await expect(runSync(run, counters())).rejects.toBeInstanceOf(ProviderRejectedError);
    expect(run.rejected).toEqual([refused]);
    expect(run.events.at(-1)).toMatchObject({ event: 'failed', stream: 'contacts', code: 'provider_rejected', exitCode: 3 });
  });

  it('the first failure stops the other streams at their next checkpoint, and is the one reported', async () => {
    const broken = new ProviderRejectedError('Front rejected the credential: 403 Forbidden', 403);
    let tagsPages = 0;
    const plans = [
      stream('tags', 50, async () => {
        tagsPages += 1;
        await tick();
      }),
      stream('contacts', 2, async (page) => {
        if (page === 2) throw broken;
      }),
    ];
    const run = job(plans, { concurrency: 2 });
    await expect(runSync(run, counters())).rejects.toMatchObject({ status: 403 });
    expect(tagsPages).toBeLessThan(50);
    expect(run.events.at(-1)).toMatchObject({ event: 'failed', stream: 'contacts' });
  });

  it('checkpoints land in the order they were taken, so the last saved state holds every stream\'s last page', async () => {
    const run = job([stream('a', 20, tick), stream('b', 20, tick), stream('c', 20, tick)], { concurrency: 3 });
    const summary = await runSync(run, counters());
    expect(summary.records).toBe(60);
    const state = (run.state as unknown as { saved: SyncState[] }).saved.at(-1)!;
    expect(state.run?.status).toBe('done');
    for (const name of ['a', 'b', 'c']) expect(state.streams[name]).toMatchObject({ status: 'done', pages: 20 });
    // Each stream's pages only ever move forward across the saved states.
    for (const name of ['a', 'b', 'c']) {
      const pages = (run.state as unknown as { saved: SyncState[] }).saved.map((s) => s.streams[name]?.pages ?? 0);
      expect(pages).toEqual([...pages].sort((x, y) => x - y));
    }
  });

  it('a cancel alone stops every stream after its checkpoint, with exit 130', async () => {
    const stop = new AbortController();
    const run = job([stream('a', 20, tick), stream('b', 20, tick)], { concurrency: 2, signal: stop.signal });
    setTimeout(() => stop.abort(), 30);
    await expect(runSync(run, counters())).rejects.toBeInstanceOf(SyncCancelledError);
    expect(run.events.at(-1)).toMatchObject({ event: 'failed', code: 'sync_cancelled', exitCode: 130 });
    expect(run.rejected).toEqual([]);
  });
});
