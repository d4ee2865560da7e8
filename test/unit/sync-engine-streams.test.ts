import { describe, expect, it } from '@jest/globals';
import { ProviderRejectedError, ProviderUnavailableError, SyncCancelledError } from '../../src/errors.js';
import type { Collection } from '../../src/store/collection.js';
import { runSync, type StreamPlan, type SyncJob, type SyncState } from '../../src/sync/sync-engine.js';
import type { SyncEvent } from '../../src/generated/sync-event.js';
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
    writer: async () => ({
      write: async (records) => ({ sent: records.length, rejected: 0, skipped: 0, offset: 0 }),
      close: async () => undefined,
    }),
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

  it("checkpoints land in the order they were taken, so the last saved state holds every stream's last page", async () => {
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

describe('one stream in the engine', () => {
  /** A stream whose reader yields the given pages, recording the cursor it was started from and the writer's offset. */
  function scripted(name: string, pages: Page[], extra: Partial<StreamPlan> = {}) {
    const seen: { since: unknown[]; offsets: number[]; written: unknown[][] } = { since: [], offsets: [], written: [] };
    const plan: StreamPlan = {
      name,
      scopes: ['tags:read'],
      appendAcrossRuns: false,
      reader: (since) => {
        seen.since.push(since);
        return {
          async *pages(): AsyncGenerator<Page> {
            yield* pages;
          },
        };
      },
      writer: async (offset) => {
        seen.offsets.push(offset);
        return {
          write: async (records) => {
            seen.written.push(records);
            return { sent: records.length, rejected: 0, skipped: 0, offset: offset + records.length };
          },
          close: async () => undefined,
        };
      },
      ...extra,
    };
    return { plan, seen };
  }

  it('an incremental stream starts the next run from the newest cursor, appends, and writes nothing at or before it again', async () => {
    const state = memoryState();
    const first = scripted(
      'contacts',
      [
        {
          records: [
            { id: 'a', t: 3 },
            { id: 'b', t: 5 },
          ],
          next: null,
        },
      ],
      { cursorField: 't', appendAcrossRuns: true },
    );
    await runSync(job([first.plan], { state }), counters());
    expect(state.saved.at(-1)!.streams.contacts).toMatchObject({ cursor: 5, offset: 2 });

    // The provider ignores the filter and sends b (t 5) again, with c (t 7) and a record without a cursor.
    const second = scripted('contacts', [{ records: [{ id: 'b', t: 5 }, { id: 'c', t: 7 }, { id: 'd' }], next: null }], {
      cursorField: 't',
      appendAcrossRuns: true,
    });
    const summary = await runSync(job([second.plan], { state }), counters());
    expect(second.seen.since).toEqual([5]);
    expect(second.seen.offsets).toEqual([2]); // appended after the first run's records
    expect(second.seen.written).toEqual([[{ id: 'c', t: 7 }, { id: 'd' }]]);
    expect(summary.streams.contacts).toMatchObject({ records: 3, skipped: 1 });
    expect(state.saved.at(-1)!.streams.contacts).toMatchObject({ cursor: 7, since: 5 });
  });

  it("keeps the newest cursor of a page in any order, dates as text included, and compares only values of the cursor's type", async () => {
    const state = memoryState();
    const first = scripted(
      'contacts',
      [
        {
          records: [
            { id: 'b', t: '2026-11-02' },
            { id: 'a', t: '2026-11-01' },
            { id: 'x', t: null },
            { id: 'y', t: { at: 1 } },
          ],
          next: null,
        },
      ],
      { cursorField: 't', appendAcrossRuns: true },
    );
    const one = await runSync(job([first.plan], { state }), counters());
    expect(state.saved.at(-1)!.streams.contacts).toMatchObject({ cursor: '2026-11-02' });
    expect(one.streams.contacts).toMatchObject({ sent: 4, skipped: 0 });
    // The next run: an older date is skipped; a number cannot be compared with a date, so it is kept.
    const second = scripted(
      'contacts',
      [
        {
          records: [
            { id: 'a', t: '2026-11-01' },
            { id: 'n', t: 5 },
            { id: 'c', t: '2026-11-03' },
          ],
          next: null,
        },
      ],
      { cursorField: 't', appendAcrossRuns: true },
    );
    const run = job([second.plan], { state });
    await runSync(run, counters());
    expect(second.seen.written).toEqual([
      [
        { id: 'n', t: 5 },
        { id: 'c', t: '2026-11-03' },
      ],
    ]);
    expect(run.events.find((e) => e.event === 'stream_finished')).toEqual({
      event: 'stream_finished',
      stream: 'contacts',
      pages: 1,
      records: 3,
      sent: 2,
      rejected: 0,
      skipped: 1,
    });
    expect(state.saved.at(-1)!.streams.contacts).toMatchObject({ cursor: '2026-11-03', since: '2026-11-02' });
  });

  it('a full-refresh stream starts every new run at offset 0, from no cursor', async () => {
    const state = memoryState();
    const one = scripted('tags', [{ records: [{ id: 1 }], next: null }]);
    await runSync(job([one.plan], { state }), counters());
    const two = scripted('tags', [{ records: [{ id: 1 }], next: null }]);
    const summary = await runSync(job([two.plan], { state }), counters());
    expect(two.seen.offsets).toEqual([0]);
    expect(two.seen.since).toEqual([undefined]);
    expect(summary.finishedEarlier).toBeUndefined();
  });

  it('sends a row that is no record to the rejects file with its row number, and counts it', async () => {
    const rejects: unknown[] = [];
    const { plan } = scripted('tags', [
      { records: [{ id: 1 }, null], rows: [1, 2], problems: new Map([[1, 'line 2 is not JSON']]), next: null },
    ]);
    const run = job([plan], { rejects: { add: async (r) => void rejects.push(r), path: '/tmp/rejects.jsonl', count: 0 } });
    const summary = await runSync(run, counters());
    expect(rejects).toEqual([{ stream: 'tags', row: 2, reason: 'line 2 is not JSON', record: null }]);
    expect(summary).toMatchObject({ rejected: 1, rejects: '/tmp/rejects.jsonl' });
    expect(run.events.find((e) => e.event === 'stream_finished')).toMatchObject({ rejected: 1, records: 2 });
  });

  it('a stream whose last checkpoint was all that was missing is finished without reading again', async () => {
    const state = memoryState();
    await state.put('src:dst', {
      run: { id: 'r1', status: 'running', startedAt: '' },
      streams: { tags: { status: 'running', next: null, offset: 9, pages: 2, records: 20, run: 'r1' } },
      updatedAt: '',
    });
    const { plan, seen } = scripted('tags', [{ records: [{ id: 'x' }], next: null }]);
    const summary = await runSync(job([plan], { state }), counters());
    expect(seen.since).toEqual([]); // the reader was never asked
    expect(summary.streams.tags).toMatchObject({ records: 20, pages: 2 });
  });

  it('names the scope a stream needs on a 403, and says the tile is invalid on a 401', async () => {
    const forbidden = scripted('tags', [], {
      reader: () => ({
        // biome-ignore lint/correctness/useYield: a reader that fails before its first page
        pages: async function* () {
          throw new ProviderRejectedError('Front rejected the request: 403 Forbidden', 403);
        },
      }),
    });
    await expect(runSync(job([forbidden.plan]), counters())).rejects.toThrow(
      'Front rejected the request: 403 Forbidden; stream tags needs the scope tags:read on the token',
    );
    const revoked = scripted('tags', [], {
      reader: () => ({
        // biome-ignore lint/correctness/useYield: a reader that fails before its first page
        pages: async function* () {
          throw new ProviderRejectedError('Front rejected the credential: 401 Unauthenticated', 401);
        },
      }),
    });
    const run = job([revoked.plan]);
    await expect(runSync(run, counters())).rejects.toThrow(
      "401 Unauthenticated; the credential's tile is now marked invalid and the checkpoint is kept",
    );
    expect(run.rejected).toHaveLength(1);
  });
});

describe('a run is a unit', () => {
  /** A stream of numbered pages that records where each read started; `failAt` throws at that page, once. */
  function counted(name: string, pages: number, failAt?: number) {
    const starts: (string | null)[] = [];
    let failed = false;
    const plan: StreamPlan = {
      name,
      scopes: [],
      appendAcrossRuns: false,
      reader: () => ({
        async *pages(from: string | null): AsyncGenerator<Page> {
          starts.push(from);
          for (let n = from === null ? 1 : Number(from); n <= pages; n++) {
            if (n === failAt && !failed) {
              failed = true;
              throw new ProviderUnavailableError('Front answered 503');
            }
            yield { records: [{ id: `${name}-${n}` }], next: n < pages ? String(n + 1) : null };
          }
        },
      }),
      // A provider writer: no file offset to report.
      writer: async () => ({
        write: async (records) => ({ sent: records.length, rejected: 0, skipped: 0 }),
        close: async () => {
          closes.count += 1;
        },
      }),
    };
    const closes = { count: 0 };
    return { plan, starts, closes };
  }

  it('after a failure the next sync finishes that run: finished streams are not read, the running one resumes, a new one joins', async () => {
    const state = memoryState();
    const tags = counted('tags', 2);
    const contacts = counted('contacts', 3, 2);
    const first = job([tags.plan, contacts.plan], { state });
    await expect(runSync(first, counters())).rejects.toMatchObject({ code: 'provider_unavailable' });
    const started = first.events[0] as Extract<SyncEvent, { event: 'started' }>;
    expect(started).toMatchObject({ resumedRun: false, resumed: [], skipped: [] });
    expect(first.events.at(-1)).toMatchObject({ event: 'failed', stream: 'contacts', code: 'provider_unavailable', exitCode: 4 });

    const accounts = counted('accounts', 1);
    const second = job([tags.plan, contacts.plan, accounts.plan], { state });
    const summary = await runSync(second, counters());
    expect(second.events[0]).toEqual({
      event: 'started',
      source: 'src',
      destination: 'dst',
      run: started.run,
      resumedRun: true,
      streams: ['tags', 'contacts', 'accounts'],
      resumed: ['contacts'],
      skipped: ['tags'],
      concurrency: 1,
    });
    expect(tags.starts).toEqual([null]); // read once, by the first sync
    expect(contacts.starts).toEqual([null, '2']); // resumed at its checkpoint
    expect(contacts.closes.count).toBe(2); // its writer closed after the failure too
    expect(second.events.filter((e) => e.event === 'checkpoint').map((e) => (e as { offset: number }).offset)).toEqual([0, 0, 0, 0, 0]);
    expect(accounts.starts).toEqual([null]);
    expect(summary).toMatchObject({
      records: 6,
      pages: 6,
      finishedEarlier: ['tags'],
      streams: { tags: { records: 2, pages: 2 }, contacts: { records: 3, pages: 3 }, accounts: { records: 1, pages: 1 } },
    });
    expect(second.events.at(-1)).toEqual({ event: 'finished', summary });
    expect(summary.ms).toBeGreaterThanOrEqual(0);
    expect(summary.ms).toBeLessThan(60_000);
    expect(summary).not.toHaveProperty('rate');

    // That run is done: the next sync is a new run, reading everything again.
    const third = job([tags.plan, contacts.plan], { state, rate: () => ({ requests: 5, perMinute: 1 }) });
    const fresh = await runSync(third, counters());
    expect(third.events[0]).toMatchObject({ resumedRun: false, resumed: [], skipped: [] });
    expect((third.events[0] as { run: string }).run).not.toBe(started.run);
    expect(tags.starts).toEqual([null, null]);
    expect(fresh.finishedEarlier).toBeUndefined();
    expect(fresh.rate).toEqual({ requests: 5, perMinute: 1 });
  });

  it('--full-refresh discards an interrupted run and reads every stream again', async () => {
    const state = memoryState();
    const tags = counted('tags', 1);
    const contacts = counted('contacts', 2, 2);
    await expect(runSync(job([tags.plan, contacts.plan], { state }), counters())).rejects.toThrow();
    const again = job([tags.plan, contacts.plan], { state, fullRefresh: true });
    await runSync(again, counters());
    expect(again.events[0]).toMatchObject({ resumedRun: false, skipped: [], resumed: [] });
    expect(tags.starts).toEqual([null, null]);
    expect(contacts.starts).toEqual([null, null]);
  });

  it('a sync cancelled before it starts reads nothing and says so', async () => {
    const stop = new AbortController();
    stop.abort();
    const tags = counted('tags', 2);
    const run = job([tags.plan], { signal: stop.signal });
    await expect(runSync(run, counters())).rejects.toBeInstanceOf(SyncCancelledError);
    expect(tags.starts).toEqual([]);
    expect(run.events.at(-1)).toMatchObject({ event: 'failed', stream: 'tags', code: 'sync_cancelled' });
  });

  it('state saved before runs existed starts a new run: its finished streams are read again', async () => {
    const state = memoryState();
    await state.put('src:dst', { streams: { tags: { status: 'done', next: null, offset: 0, pages: 1, records: 1 } }, updatedAt: '' });
    const tags = counted('tags', 1);
    const run = job([tags.plan], { state });
    await runSync(run, counters());
    expect(run.events[0]).toMatchObject({ resumedRun: false, skipped: [] });
    expect(tags.starts).toEqual([null]);
  });

  it('after a stream fails, one waiting for its turn is not started', async () => {
    const broken = counted('broken', 1, 1);
    const waiting = counted('waiting', 1);
    await expect(runSync(job([broken.plan, waiting.plan]), counters())).rejects.toThrow('Front answered 503');
    expect(waiting.starts).toEqual([]);
  });

  it('of two streams that fail, the first failure is the one reported', async () => {
    const first = new ProviderRejectedError('Front rejected the request: 403 Forbidden', 403);
    const plans = [
      stream('a', 2, async () => {
        throw first;
      }),
      stream('b', 2, async () => {
        await tick();
        throw new ProviderUnavailableError('Front answered 503');
      }),
    ];
    const run = job(plans, { concurrency: 2 });
    await expect(runSync(run, counters())).rejects.toMatchObject({ status: 403 });
    expect(run.events.at(-1)).toMatchObject({ event: 'failed', stream: 'a', code: 'provider_rejected' });
  });

  it('a store that fails on the last save is the failure, with no stream to blame', async () => {
    const state = memoryState();
    const put = state.put.bind(state);
    state.put = (async (key: string, next: SyncState) => {
      if (next.run?.status === 'done') throw new ProviderUnavailableError('the store went away');
      return put(key, next);
    }) as typeof state.put;
    const run = job([counted('tags', 1).plan], { state });
    await expect(runSync(run, counters())).rejects.toThrow('the store went away');
    expect(run.events.at(-1)).toMatchObject({ event: 'failed', stream: undefined, message: 'the store went away' });
  });
});

describe('a page once written', () => {
  it('is emptied before the engine waits for the next one, so its records die young', async () => {
    // A reader's suspended frame keeps the page it yielded through the wait for the next page (seconds,
    // under a rate limit): a thousand syncs each keeping one made most of a worker's memory.
    const yielded: Page[] = [];
    const seenWhenAsked: number[] = [];
    const written: unknown[][] = [];
    const plan: StreamPlan = {
      ...stream('contacts', 0),
      reader: () => ({
        async *pages(): AsyncGenerator<Page> {
          for (let n = 1; n <= 3; n++) {
            if (n > 1) seenWhenAsked.push(yielded.at(-1)!.records.length);
            const page: Page = {
              records: [{ id: n }, { id: n + 10 }],
              next: n < 3 ? String(n + 1) : null,
              rows: [n, n],
              problems: new Map(),
            };
            yielded.push(page);
            yield page;
          }
        },
      }),
      writer: async () => ({
        write: async (records) => {
          written.push([...records]);
          return { sent: records.length, rejected: 0, skipped: 0, offset: 0 };
        },
        close: async () => undefined,
      }),
    };
    const run = job([plan]);
    const summary = await runSync(run, counters());
    // Counted before it was emptied: each page event still says how many records it had.
    expect(run.events.filter((e) => e.event === 'page').map((e) => (e as { records: number }).records)).toEqual([2, 2, 2]);
    expect(written).toEqual([
      [{ id: 1 }, { id: 11 }],
      [{ id: 2 }, { id: 12 }],
      [{ id: 3 }, { id: 13 }],
    ]);
    expect(summary.records).toBe(6);
    expect(seenWhenAsked).toEqual([0, 0]);
    for (const page of yielded) expect(page).toEqual({ records: [], next: page.next, rows: [], problems: new Map() });
  });
});
