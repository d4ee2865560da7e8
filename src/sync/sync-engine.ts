import { heard, publish } from '../telemetry/channels.js';
import { traced } from '../telemetry/tracing.js';
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { CredportError, ProviderRejectedError, SyncCancelledError } from '../errors.js';
import type { Collection } from '../store/collection.js';
import type { SyncEvent } from '../generated/sync-event.js';
import type { SyncRate, SyncSummary } from '../generated/sync-summary.js';
import type { Page, Reject, StreamReader, StreamWriter } from './stream-io.js';

export interface StreamState {
  status: 'running' | 'done';
  /** The reader's position after the last checkpointed page (a URL, a byte offset), or null. */
  next: string | null;
  /** Bytes of a destination file that the checkpoint vouches for. */
  offset: number;
  pages: number;
  records: number;
  sent?: number;
  rejected?: number;
  skipped?: number;
  /** Newest incremental cursor value seen (a finished run's becomes the next run's start). */
  cursor?: number | string;
  /** The cursor this run started from. */
  since?: number | string;
  /** The run this stream state belongs to: a stream done in the current run is not read again. */
  run?: string;
}

/** One pass over the source's streams: done when every stream of it is done. */
export interface RunState {
  id: string;
  status: 'running' | 'done';
  startedAt: string;
}

export interface SyncState {
  /** Absent in state saved before runs existed: such a state starts a new run. */
  run?: RunState;
  streams: Record<string, StreamState>;
  updatedAt: string;
}

export interface StreamPlan {
  name: string;
  /** Fields of the stream's records that carry an incremental cursor, when it has one. */
  cursorField?: string;
  /** Provider scopes named when the provider answers 403. */
  scopes: string[];
  /** A file destination keeps its content across runs only for incremental streams. */
  appendAcrossRuns: boolean;
  reader: (since: number | string | undefined) => StreamReader;
  writer: (offset: number) => Promise<StreamWriter>;
  /** The stream's labels for the records counted (telemetry): its connectors, and its name only when a manifest declares it. */
  measured?: { stream: string; read: string; write: string };
}

export interface SyncJob {
  key: string;
  sourceId: string;
  destinationId: string;
  streams: StreamPlan[];
  fullRefresh: boolean;
  state: Collection<SyncState>;
  /** `shown`: the path as the caller may see it (a tenant's, relative to its workspace folder). */
  rejects: { add(reject: Reject): Promise<void>; path: string; shown?: string; count: number };
  onEvent: (event: SyncEvent) => void;
  /** Called once when the provider refuses the credential mid-sync. */
  onRejected: (error: ProviderRejectedError) => Promise<void>;
  /** Aborted: stop after the current page's checkpoint (SIGINT, a cancel from the API). */
  signal?: AbortSignal;
  /** Streams read side by side (default 1: one after another, in order). */
  concurrency?: number;
  /** The rate the run reached against the provider's announced limit, asked once at the end. */
  rate?: () => SyncRate | undefined;
}

/**
 * One generic loop per stream: a reader yields pages, a writer takes each one, then the checkpoint
 * moves. Streams run side by side up to `concurrency`, each with its own checkpoint. Killed at any
 * moment and run again, every record lands once (file writers cut back to the checkpoint; provider
 * writers keep a per-record ledger).
 */
export async function runSync(job: SyncJob, counters: { rateLimited: number; retries: number }): Promise<SyncSummary> {
  const started = Date.now();
  const saved = job.fullRefresh ? undefined : await job.state.get(job.key);
  // A run is a unit: after an interrupted run the next sync finishes it (its finished streams are
  // not read again); only after a finished run, or on --full-refresh, does a new one start.
  const interrupted = saved?.run?.status === 'running' ? saved.run : undefined;
  const run: RunState = interrupted ?? { id: randomUUID(), status: 'running', startedAt: new Date().toISOString() };
  const state: SyncState = { run, streams: { ...(saved?.streams ?? {}) }, updatedAt: new Date().toISOString() };
  const names = job.streams.map((s) => s.name);
  const finished = names.filter((name) => doneInRun(streamState(state, name), run));
  const resumed = names.filter((name) => streamState(state, name)?.status === 'running');
  const concurrency = Math.max(1, Math.floor(job.concurrency ?? 1));
  job.onEvent({
    event: 'started',
    source: job.sourceId,
    destination: job.destinationId,
    run: run.id,
    resumedRun: interrupted !== undefined,
    streams: names,
    resumed,
    skipped: finished,
    concurrency,
  });
  const summary: SyncSummary = {
    source: job.sourceId,
    destination: job.destinationId,
    streams: {},
    records: 0,
    pages: 0,
    sent: 0,
    rejected: 0,
    skipped: 0,
    rateLimited: 0,
    retries: 0,
    ms: 0,
  };
  const save = checkpointSaver(job, state);
  // The first stream to fail stops the others at their next checkpoint; its error is the sync's.
  const stopOthers = new AbortController();
  const stopped: { failure?: { error: unknown; plan: StreamPlan } } = {};
  const fail = (error: unknown, plan: StreamPlan) => {
    // A real failure outranks a cancel: a 401 met while stopping must still mark the tile invalid.
    const first = stopped.failure;
    if (!first || (first.error instanceof SyncCancelledError && !(error instanceof SyncCancelledError))) stopped.failure = { error, plan };
    stopOthers.abort();
  };
  const slots = pLimit(concurrency);
  const results = await Promise.all(
    job.streams.map((plan) =>
      slots(async (): Promise<StreamState | undefined> => {
        if (stopped.failure) return undefined;
        const previous = streamState(state, plan.name);
        if (previous && doneInRun(previous, run)) return previous;
        try {
          if (job.signal?.aborted) throw new SyncCancelledError(undefined);
          return await tracedStream(plan, () => syncStream(job, plan, state, save, stopOthers.signal));
        } catch (error) {
          fail(error, plan);
          return undefined;
        }
      }),
    ),
  );
  try {
    if (stopped.failure) throw stopped.failure.error;
    for (const [i, plan] of job.streams.entries()) {
      const st = results[i]!;
      summary.streams[plan.name] = {
        records: st.records,
        pages: st.pages,
        sent: st.sent ?? 0,
        rejected: st.rejected ?? 0,
        skipped: st.skipped ?? 0,
      };
      summary.records += st.records;
      summary.pages += st.pages;
      summary.sent += st.sent ?? 0;
      summary.rejected += st.rejected ?? 0;
      summary.skipped += st.skipped ?? 0;
    }
    state.run = { ...run, status: 'done' };
    await save();
  } catch (error) {
    const plan = stopped.failure?.plan;
    const described = await describeFailure(job, error, plan);
    job.onEvent({ event: 'failed', stream: plan?.name, code: described.code, message: described.message, exitCode: described.exitCode });
    throw described;
  }
  Object.assign(summary, { rateLimited: counters.rateLimited, retries: counters.retries, ms: Date.now() - started });
  const rate = job.rate?.();
  if (rate) summary.rate = rate;
  if (finished.length > 0) summary.finishedEarlier = finished;
  if (summary.rejected > 0) summary.rejects = job.rejects.shown ?? job.rejects.path;
  job.onEvent({ event: 'finished', summary });
  return summary;
}

/**
 * Saves the whole sync state, one write after the other: streams checkpoint concurrently, and a
 * write that overtook a later one would put an older checkpoint back.
 */
function checkpointSaver(job: SyncJob, state: SyncState): () => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  return () => {
    const write = last.then(() => {
      state.updatedAt = new Date().toISOString();
      return job.state.put(job.key, state);
    });
    last = write.catch(() => undefined);
    return write;
  };
}

/** A stream's saved state: own keys only, so a stream named like an inherited member ("toString") starts fresh. */
function streamState(state: SyncState, name: string): StreamState | undefined {
  return Object.hasOwn(state.streams, name) ? state.streams[name] : undefined;
}

function doneInRun(stream: StreamState | undefined, run: RunState): boolean {
  return stream?.status === 'done' && stream.run === run.id;
}

async function syncStream(
  job: SyncJob,
  plan: StreamPlan,
  state: SyncState,
  save: () => Promise<void>,
  stopped: AbortSignal,
): Promise<StreamState> {
  const previous = streamState(state, plan.name);
  // A running stream resumes where its checkpoint says; otherwise a new run starts: incremental
  // streams read from the newest cursor, the others are read again whole.
  const resume = previous?.status === 'running';
  const since = resume ? previous.since : plan.cursorField ? previous?.cursor : undefined;
  const run = state.run!.id;
  // A running stream (of this run, or of an earlier one it was dropped from) resumes at its checkpoint, and joins this run.
  const st: StreamState = resume
    ? { ...previous, run }
    : {
        status: 'running',
        next: null,
        offset: plan.appendAcrossRuns && previous ? previous.offset : 0,
        pages: 0,
        records: 0,
        ...(since !== undefined ? { cursor: since, since } : {}),
        run,
      };
  const writer = await plan.writer(st.offset);
  job.onEvent({ event: 'stream_started', stream: plan.name, fromCheckpoint: resume });
  try {
    const readThrough = resume && st.next === null && st.pages > 0; // only the final checkpoint was missing
    if (!readThrough) {
      for await (const page of plan.reader(since).pages(resume ? st.next : null)) {
        await takePage(job, plan, st, page, writer, since);
        await checkpoint(job, state, save, plan.name, st);
        if (job.signal?.aborted || stopped.aborted) throw new SyncCancelledError(plan.name);
      }
    }
    st.status = 'done';
    st.next = null;
    await checkpoint(job, state, save, plan.name, st);
    job.onEvent({
      event: 'stream_finished',
      stream: plan.name,
      pages: st.pages,
      records: st.records,
      sent: st.sent ?? 0,
      rejected: st.rejected ?? 0,
      skipped: st.skipped ?? 0,
    });
    return st;
  } finally {
    await writer.close();
  }
}

/** One page into the writer and the stream's counts (its checkpoint is the caller's next step). */
async function takePage(
  job: SyncJob,
  plan: StreamPlan,
  st: StreamState,
  page: Page,
  writer: StreamWriter,
  since: number | string | undefined,
): Promise<void> {
  const keep: unknown[] = [];
  const rows: (number | undefined)[] = [];
  let seen = 0;
  for (const [i, record] of page.records.entries()) {
    const problem = page.problems?.get(i);
    if (problem)
      await job.rejects.add({
        stream: plan.name,
        ...(page.rows?.[i] !== undefined ? { row: page.rows[i] } : {}),
        reason: problem,
        record,
      });
    else if (plan.cursorField && notAfter(record, plan.cursorField, since)) seen += 1;
    else {
      keep.push(record);
      rows.push(page.rows?.[i]);
    }
  }
  const outcome = await writer.write(keep, rows);
  countRecords(plan, page.records.length, outcome.sent);
  if (outcome.offset !== undefined) st.offset = outcome.offset;
  st.pages += 1;
  st.records += page.records.length;
  st.sent = (st.sent ?? 0) + outcome.sent;
  st.rejected = (st.rejected ?? 0) + outcome.rejected + (page.problems?.size ?? 0);
  st.skipped = (st.skipped ?? 0) + outcome.skipped + seen;
  if (plan.cursorField) st.cursor = newest(page.records, plan.cursorField, st.cursor);
  st.next = page.next;
  // Emptied once written: a suspended function or generator keeps its locals, and the page stays
  // referenced (the loop's, the reader's) through the seconds the next one waits for the rate limit;
  // its records would be promoted and die old (a thousand syncs made that most of a worker's memory).
  job.onEvent({
    event: 'page',
    stream: plan.name,
    page: st.pages,
    records: page.records.length,
    total: st.records,
    sent: st.sent,
    rejected: st.rejected,
    skipped: st.skipped,
  });
  releasePage(page);
}

function releasePage(page: Page): void {
  page.records = [];
  if (page.rows) page.rows = [];
  page.problems?.clear();
}

/**
 * A stream as a span under the run's: its provider requests nest below it. Named as the metrics
 * name it (a manifest's stream, or `other`: a file's name is whatever its owner typed).
 */
function tracedStream(plan: StreamPlan, work: () => Promise<StreamState>): Promise<StreamState> {
  const attributes = () => ({ 'credport.connector': plan.measured?.read ?? 'other', 'credport.stream': plan.measured?.stream ?? 'other' });
  return traced('credport.sync.stream', { attributes }, async (span) => {
    const st = await work();
    if (span.isRecording()) span.setAttributes({ 'credport.records': st.records, 'credport.pages': st.pages });
    return st;
  });
}

function countRecords(plan: StreamPlan, read: number, written: number): void {
  const m = plan.measured;
  if (!m || !heard('credport:sync-records')) return;
  publish('credport:sync-records', () => ({ connector: m.read, stream: m.stream, direction: 'read', count: read }));
  if (written > 0) publish('credport:sync-records', () => ({ connector: m.write, stream: m.stream, direction: 'write', count: written }));
}

async function checkpoint(job: SyncJob, state: SyncState, save: () => Promise<void>, name: string, st: StreamState): Promise<void> {
  // Defined, not assigned: even a stream named "__proto__" stays an own key, never the object's prototype.
  Object.defineProperty(state.streams, name, { value: { ...st }, writable: true, enumerable: true, configurable: true });
  await save();
  job.onEvent({ event: 'checkpoint', stream: name, pages: st.pages, records: st.records, offset: st.offset });
}

/**
 * A record at or before the cursor this run started from was written by an earlier run: a provider
 * that ignores the incremental filter (or rounds it) sends it again, and it is not written twice.
 * Values of another type than the cursor's are kept: they cannot be compared.
 */
function notAfter(record: unknown, field: string, since: number | string | undefined): boolean {
  if (since === undefined) return false;
  const value = ownField(record, field);
  return typeof value === typeof since && (value as number | string) <= since;
}

function newest(records: unknown[], field: string, current: number | string | undefined): number | string | undefined {
  let best = current;
  for (const record of records) {
    const value = ownField(record, field);
    if ((typeof value === 'number' || typeof value === 'string') && (best === undefined || value > best)) best = value;
  }
  return best;
}

/** A record's own field: never a member its prototype lends it. */
function ownField(record: unknown, field: string): unknown {
  return record !== null && typeof record === 'object' && Object.hasOwn(record, field)
    ? (record as Record<string, unknown>)[field]
    : undefined;
}

async function describeFailure(job: SyncJob, error: unknown, plan: StreamPlan | undefined): Promise<CredportError> {
  if (error instanceof ProviderRejectedError && error.status === 401) {
    await job.onRejected(error);
    return new ProviderRejectedError(
      `${error.message}; the credential's tile is now marked invalid and the checkpoint is kept: rotate it (credport credentials ` +
        `rotate), then run the sync again to resume`,
      401,
    );
  }
  if (error instanceof ProviderRejectedError && error.status === 403 && plan) {
    return new ProviderRejectedError(`${error.message}; stream ${plan.name} needs the scope ${plan.scopes.join(', ')} on the token`, 403);
  }
  if (error instanceof CredportError) return error;
  throw error;
}
