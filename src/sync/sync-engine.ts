import { CredportError, InputError, OriginRefusedError, ProviderRejectedError } from '../errors.js';
import type { StreamConfig } from '../generated/connector-manifest.js';
import type { ProviderClient } from '../http/provider-client.js';
import { getPointer } from '../registry/inline-refs.js';
import type { Collection } from '../store/collection.js';
import { printable } from '../text/printable.js';
import { JsonlWriter } from './jsonl-writer.js';
import type { SyncEvent, SyncSummary } from './sync-events.js';

export interface StreamState {
  status: 'running' | 'done';
  /** The next page's URL, or null when the stream is read through. */
  next: string | null;
  /** Bytes of the destination file that the checkpoint vouches for. */
  offset: number;
  pages: number;
  records: number;
  /** Newest incremental cursor value seen (a finished run's becomes the next run's start). */
  cursor?: number | string;
  /** The cursor this run started from. */
  since?: number | string;
}

export interface SyncState {
  streams: Record<string, StreamState>;
  updatedAt: string;
}

export interface SyncJob {
  key: string;
  sourceId: string;
  destinationId: string;
  provider: string;
  streams: [string, StreamConfig][];
  client: ProviderClient;
  path: string;
  fullRefresh: boolean;
  state: Collection<SyncState>;
  onEvent: (event: SyncEvent) => void;
  /** Called once when the provider refuses the credential mid-sync. */
  onRejected: (error: ProviderRejectedError) => Promise<void>;
}

/**
 * Reads every stream page by page through the credential's client, writes each page to the
 * destination, then checkpoints: killed at any moment and run again, every record lands once.
 */
export async function runSync(job: SyncJob, counters: { rateLimited: number; retries: number }): Promise<SyncSummary> {
  const started = Date.now();
  const saved = job.fullRefresh ? undefined : await job.state.get(job.key);
  const state: SyncState = { streams: { ...(saved?.streams ?? {}) }, updatedAt: new Date().toISOString() };
  const resumed = job.streams.map(([name]) => name).filter((name) => state.streams[name]?.status === 'running');
  job.onEvent({ event: 'started', source: job.sourceId, destination: job.destinationId, streams: job.streams.map(([n]) => n), resumed });
  const summary: SyncSummary = { source: job.sourceId, destination: job.destinationId, streams: {}, records: 0, pages: 0, rateLimited: 0, retries: 0, ms: 0 };
  let current: string | undefined;
  try {
    for (const [name, stream] of job.streams) {
      current = name;
      const result = await syncStream(job, name, stream, state);
      summary.streams[name] = result;
      summary.records += result.records;
      summary.pages += result.pages;
    }
  } catch (error) {
    const failure = await describeFailure(job, error, current);
    job.onEvent({ event: 'failed', stream: current, code: failure.code, message: failure.message, exitCode: failure.exitCode });
    throw failure;
  }
  Object.assign(summary, { rateLimited: counters.rateLimited, retries: counters.retries, ms: Date.now() - started });
  job.onEvent({ event: 'finished', summary });
  return summary;
}

async function syncStream(job: SyncJob, name: string, stream: StreamConfig, state: SyncState): Promise<{ records: number; pages: number }> {
  const previous = state.streams[name];
  // A running stream resumes where its checkpoint says; otherwise a new run starts: incremental
  // streams keep their file and read from the newest cursor, the others are read again whole.
  const resume = previous?.status === 'running';
  const since = resume ? previous.since : stream.incremental ? previous?.cursor : undefined;
  const st: StreamState = resume
    ? { ...previous }
    : { status: 'running', next: null, offset: stream.incremental && previous ? previous.offset : 0, pages: 0, records: 0, ...(since !== undefined ? { cursor: since, since } : {}) };
  const writer = await JsonlWriter.open(job.path, name, st.offset);
  try {
    let url: URL | undefined = st.next ? rewriteForeign(job, name, stream, new URL(st.next)) : firstPage(job.client, stream, since);
    if (resume && st.next === null && previous.pages > 0) url = undefined; // read through, only the final checkpoint was missing
    let pending = url ? fetchPage(job, url) : undefined;
    while (pending) {
      const response = await pending;
      const records = getPointer(response.body, stream.recordSelector);
      if (!Array.isArray(records)) {
        throw new InputError(`${job.provider} answered ${stream.path} without a record list at ${stream.recordSelector}`, { code: 'provider_unexpected' });
      }
      const next = stream.pagination ? getPointer(response.body, stream.pagination.next) : undefined;
      url = typeof next === 'string' && next !== '' ? rewriteForeign(job, name, stream, new URL(next)) : undefined;
      // Ask for the next page while this one is written and checkpointed: the wait for the network
      // overlaps the disk, and the checkpoints still move one page at a time, in order.
      pending = url ? fetchPage(job, url) : undefined;
      st.offset = await writer.append(records);
      st.pages += 1;
      st.records += records.length;
      if (stream.incremental) st.cursor = newest(records, stream.incremental.cursorField, st.cursor);
      st.next = url?.toString() ?? null;
      job.onEvent({ event: 'page', stream: name, page: st.pages, records: records.length, total: st.records });
      await checkpoint(job, state, name, st);
    }
    st.status = 'done';
    st.next = null;
    await checkpoint(job, state, name, st);
    job.onEvent({ event: 'stream_finished', stream: name, pages: st.pages, records: st.records });
    return { records: st.records, pages: st.pages };
  } finally {
    await writer.close();
  }
}

function fetchPage(job: SyncJob, url: URL): Promise<{ body: unknown }> {
  const request = job.client.request<unknown>({ path: url.toString() });
  request.catch(() => undefined); // awaited after the current page is saved; not unhandled meanwhile
  return request;
}

async function checkpoint(job: SyncJob, state: SyncState, name: string, st: StreamState): Promise<void> {
  state.streams[name] = { ...st };
  state.updatedAt = new Date().toISOString();
  await job.state.put(job.key, state);
  job.onEvent({ event: 'checkpoint', stream: name, pages: st.pages, records: st.records, offset: st.offset });
}

function firstPage(client: ProviderClient, stream: StreamConfig, since: number | string | undefined): URL {
  const url = client.urlFor(stream.path);
  if (stream.pagination?.limitParam && stream.pagination.pageSize) url.searchParams.set(stream.pagination.limitParam, String(stream.pagination.pageSize));
  if (stream.incremental && since !== undefined) {
    url.searchParams.set(stream.incremental.param, stream.incremental.template.replace('{cursor}', JSON.stringify(since)));
    for (const [key, value] of Object.entries(stream.incremental.extraParams ?? {})) url.searchParams.set(key, value);
  }
  return url;
}

/**
 * A next link on an origin the token does not belong to never receives it: its page token is
 * replayed against the credential's own origin, or the sync stops with a clear error.
 */
function rewriteForeign(job: SyncJob, name: string, stream: StreamConfig, next: URL): URL {
  if (job.client.allows(next)) return next;
  const token = stream.pagination ? next.searchParams.get(stream.pagination.tokenParam) : null;
  if (!token || !stream.pagination) {
    throw new OriginRefusedError(`${job.provider} sent a ${name} page link to ${printable(next.origin, 80)}, which may not receive the credential, and it carries no page token to replay`);
  }
  const own = job.client.urlFor(stream.path);
  for (const [key, value] of next.searchParams) own.searchParams.set(key, value);
  job.onEvent({ event: 'link_rewritten', stream: name, origin: printable(next.origin, 80) });
  return own;
}

function newest(records: unknown[], field: string, current: number | string | undefined): number | string | undefined {
  let best = current;
  for (const record of records) {
    const value = (record as Record<string, unknown>)?.[field];
    if ((typeof value === 'number' || typeof value === 'string') && (best === undefined || value > best)) best = value;
  }
  return best;
}

async function describeFailure(job: SyncJob, error: unknown, stream: string | undefined): Promise<CredportError> {
  if (error instanceof ProviderRejectedError && error.status === 401) {
    await job.onRejected(error);
    return new ProviderRejectedError(`${error.message}; the credential's tile is now marked invalid and the checkpoint is kept: rotate it (credport credentials rotate), then run the sync again to resume`, 401);
  }
  if (error instanceof ProviderRejectedError && error.status === 403 && stream) {
    const scopes = job.streams.find(([n]) => n === stream)?.[1].scopes ?? [];
    return new ProviderRejectedError(`${error.message}; stream ${stream} needs the scope ${scopes.join(', ')} on the token`, 403);
  }
  if (error instanceof CredportError) return error;
  throw error;
}
