import { randomBytes } from 'node:crypto';
import { aRole, contextAccess, DEFAULT_WORKSPACE, EVERY_WORKSPACE, ForbiddenError, outranks } from '../access/access.js';
import { CredportError, InputError, NotFoundError } from '../errors.js';
import type { SyncJob } from '../generated/sync-job.js';
import type { SyncEvent } from '../generated/sync-event.js';
import type { SyncSummary } from '../generated/sync-summary.js';
import type { RunSyncOptions } from '../sync/sync-service.js';
import type { Page, PageOptions } from '../page-cursor.js';

/** What a job needs of the sync service: the same run the CLI calls. */
export type RunSync = (source: string, destination: string, options: RunSyncOptions) => Promise<SyncSummary>;

export interface NumberedEvent {
  seq: number;
  event: SyncEvent;
}

type Listener = (event: NumberedEvent) => void;

/** What a job was asked to do: kept so that a failed one can be run again as it was asked. */
export interface SyncJobInput {
  source: string;
  destination: string;
  streams?: string[];
  fullRefresh?: boolean;
  concurrency?: number;
}

interface Entry {
  /** The workspace of the caller that started it: only its callers see, follow or cancel it. */
  workspace: string;
  /** Its place in the order of starts: newest first is the highest, whatever the clock said. */
  order: number;
  input: SyncJobInput;
  view: SyncJob;
  events: NumberedEvent[];
  listeners: Set<Listener>;
  abort: AbortController;
  done: Promise<void>;
}

/** Events kept per job for late subscribers (a page reload); older page events are dropped first. */
const MAX_EVENTS = 5_000;
/** Ended jobs kept for GET /syncs/{id}. */
const MAX_ENDED = 200;

/** GET /syncs: which syncs, a page at a time (the cursor: the `next` of the page before). */
export interface SyncJobQuery extends PageOptions {
  /** Only syncs in this state. */
  state?: SyncJob['status'];
}

/**
 * Syncs started through the API, run in this process with the same engine as the CLI: their
 * progress, their events for Server-Sent Events, and a cancel that stops after a checkpoint.
 */
export class SyncJobs {
  private readonly jobs = new Map<string, Entry>();
  private started = 0;

  constructor(private readonly run: RunSync) {}

  start(input: SyncJobInput, streams: string[], retryOf?: string): SyncJob {
    const id = `sync_${randomBytes(10).toString('hex')}`;
    const view: SyncJob = {
      id,
      source: input.source,
      destination: input.destination,
      status: 'running',
      streams,
      progress: {},
      ...(retryOf ? { retryOf } : {}),
      startedAt: new Date().toISOString(),
    };
    for (const stream of streams) view.progress[stream] = { records: 0, pages: 0, status: 'waiting' };
    const entry: Entry = {
      workspace: contextAccess()?.workspace ?? DEFAULT_WORKSPACE,
      order: ++this.started,
      input,
      view,
      events: [],
      listeners: new Set(),
      abort: new AbortController(),
      done: Promise.resolve(),
    };
    this.jobs.set(id, entry);
    let seq = 0;
    const publish = (event: SyncEvent) => {
      track(view, event);
      const numbered = { seq: ++seq, event };
      entry.events.push(numbered);
      if (entry.events.length > MAX_EVENTS)
        entry.events.splice(
          entry.events.findIndex((e) => e.event.event === 'page'),
          1,
        );
      for (const listener of entry.listeners) listener(numbered);
    };
    entry.done = this.run(input.source, input.destination, {
      ...(input.streams ? { streams: input.streams } : {}),
      fullRefresh: input.fullRefresh === true,
      ...(input.concurrency !== undefined ? { concurrency: input.concurrency } : {}),
      signal: entry.abort.signal,
      onEvent: publish,
      jobId: id,
    })
      .then(
        (summary) => {
          if (view.status === 'running') publish({ event: 'finished', summary });
        },
        (error: unknown) => {
          // The engine reports its own failures as events; one that failed before it started gets one here.
          const details = error instanceof CredportError ? error.toJSON() : { code: 'internal', message: 'internal error', exitCode: 1 };
          if (view.status === 'running')
            publish({ event: 'failed', stream: undefined, code: details.code, message: details.message, exitCode: details.exitCode });
        },
      )
      .finally(() => {
        // Every job's last event is `finished` or `failed`: listeners have had it.
        entry.listeners.clear();
        this.forgetOldest();
      });
    return structuredClone(view);
  }

  get(id: string): SyncJob {
    return structuredClone(this.entry(id).view);
  }

  /**
   * The caller's workspace's syncs, newest first, `limit` at a time. The cursor is the place of the
   * page's last sync in the order of starts, so a page is the same whether syncs started or were
   * forgotten since the page before.
   */
  list(query: SyncJobQuery): Page<SyncJob> {
    const before = query.cursor === undefined ? Number.POSITIVE_INFINITY : startOrderOf(query.cursor);
    const matching = [...this.jobs.values()]
      .filter((e) => this.visible(e) && e.order < before && (query.state === undefined || e.view.status === query.state))
      .sort((a, b) => b.order - a.order);
    const entries = matching.slice(0, query.limit);
    const page: Page<SyncJob> = entries.map((e) => structuredClone(e.view));
    const last = entries.at(-1);
    if (matching.length > entries.length && last) page.next = String(last.order);
    return page;
  }

  /**
   * Refuses, as busy, a destination one of this server's syncs is writing (or waits on the queue to
   * write): said at once, before the store's lease (which the run takes later) could say it.
   */
  refuseIfBusy(destination: string): void {
    const running = [...this.jobs.values()].find((e) => e.view.status === 'running' && e.input.destination === destination);
    if (running)
      throw new InputError(
        `destination ${destination} is being written by another sync${this.visible(running) ? ` (${running.view.id})` : ''}; wait for ` +
          'it to finish',
        { field: 'destination', code: 'destination_busy' },
      );
  }

  /** Replays the events after `afterSeq`, then calls the listener with each new one; returns the unsubscribe. */
  subscribe(id: string, afterSeq: number, listener: Listener): { ended: boolean; unsubscribe: () => void } {
    const entry = this.entry(id);
    for (const numbered of entry.events) if (numbered.seq > afterSeq) listener(numbered);
    if (entry.view.status !== 'running') return { ended: true, unsubscribe: () => undefined };
    entry.listeners.add(listener);
    return { ended: false, unsubscribe: () => entry.listeners.delete(listener) };
  }

  /** Asks the job to stop after its current page's checkpoint. */
  cancel(id: string): SyncJob {
    const entry = this.entry(id);
    needsEditor(entry, 'cancelling a sync');
    if (entry.view.status === 'running') entry.abort.abort();
    return structuredClone(entry.view);
  }

  /**
   * Runs a failed or cancelled job again as a new job (`retryOf` names the old one), as it was
   * asked but never as a full refresh: it resumes at the checkpoint the old one left. `check`
   * refuses what can no longer run (a source deleted since) and names the streams.
   */
  async retry(id: string, check: (input: SyncJobInput) => Promise<string[]>): Promise<SyncJob> {
    const entry = this.entry(id);
    needsEditor(entry, 'running a sync again');
    const { status } = entry.view;
    // A cancelled one too: the user who stopped it may want it finished after all.
    if (status !== 'failed' && status !== 'cancelled')
      throw new InputError(`sync ${id} is ${status}: only a failed or cancelled sync can be run again`, {
        field: 'id',
        code: 'not_failed',
      });
    const { fullRefresh: _fullRefresh, ...input } = entry.input;
    return this.start(input, await check(input), id);
  }

  /** Stops every running job at its next checkpoint and waits for them (a clean shutdown). */
  async stopAll(): Promise<void> {
    for (const entry of this.jobs.values()) entry.abort.abort();
    await Promise.all([...this.jobs.values()].map((e) => e.done));
  }

  private entry(id: string): Entry {
    const found = this.jobs.get(id);
    const entry = found && this.visible(found) ? found : undefined;
    if (!entry) throw new NotFoundError(`no sync ${id.slice(0, 60)} (syncs are kept while the server runs)`);
    return entry;
  }

  /** Another workspace's sync is not there for this caller. */
  private visible(entry: Entry): boolean {
    const caller = contextAccess()?.workspace;
    return caller === undefined || caller === EVERY_WORKSPACE || caller === entry.workspace;
  }

  private forgetOldest(): void {
    const ended = [...this.jobs.entries()].filter(([, e]) => e.view.status !== 'running');
    for (const [id] of ended.slice(0, Math.max(0, ended.length - MAX_ENDED))) this.jobs.delete(id);
  }
}

function needsEditor(entry: Entry, doing: string): void {
  const role = contextAccess()?.role;
  if (role !== undefined && !outranks(role, 'editor'))
    throw new ForbiddenError(`${doing} needs the editor role; this caller is ${aRole(role)} of workspace ${entry.workspace}`);
}

/** Keeps the job's state current from its events: progress per stream, and the outcome as soon as it is known. */
function track(view: SyncJob, event: SyncEvent): void {
  const progress = (stream: string) => (view.progress[stream] ??= { records: 0, pages: 0, status: 'waiting' });
  if (event.event === 'started') for (const stream of event.skipped) progress(stream).status = 'skipped';
  if (event.event === 'stream_started') progress(event.stream).status = 'reading';
  if (event.event === 'page') Object.assign(progress(event.stream), { records: event.total, pages: event.page, status: 'reading' });
  if (event.event === 'stream_finished')
    Object.assign(progress(event.stream), { records: event.records, pages: event.pages, status: 'done' });
  if (event.event === 'finished') Object.assign(view, { status: 'finished', summary: event.summary, endedAt: new Date().toISOString() });
  if (event.event === 'failed') {
    Object.assign(view, {
      status: event.code === 'sync_cancelled' ? 'cancelled' : 'failed',
      error: { code: event.code, message: event.message, exitCode: event.exitCode },
      endedAt: new Date().toISOString(),
    });
  }
}

/**
 * A sync cursor is the start order of the page's last sync: newest first, the next page is what
 * started before it. Anything else is refused the way every listing refuses a cursor it did not give.
 */
function startOrderOf(cursor: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(cursor))
    throw new InputError('cursor is not a cursor this server gave (pass the next of the page before, unchanged)', { field: 'cursor' });
  return Number(cursor);
}
