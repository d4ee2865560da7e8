import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Job, Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import { type Access, contextAccess, DEFAULT_WORKSPACE, withAccess } from '../access/access.js';
import { currentActor, withActor } from '../audit/audit-log.js';
import { CredportError, type ErrorDetails, ExitCode, RemoteSyncError, StoreError, SyncCancelledError } from '../errors.js';
import type { Credport } from '../open-credport.js';
import { coalesceProgress } from './coalesce-progress.js';
import { retryFailed, type RetryFilter, type RetryOutcome } from './retry-failed.js';
import { nextTry, OTHER_TRIES, type RetryHistory } from './retry-plan.js';
import { workerFailure } from './worker-failure.js';
import { DEFAULT_RETRY_FOR_MS } from '../settings.js';
import { connectRedis, type RedisClient } from '../connections/connect-redis.js';
import { failureReason } from '../text/failure-reason.js';
import { redactUri } from '../text/redact-uri.js';
import type { SyncEvent } from '../generated/sync-event.js';
import type { SyncSummary } from '../generated/sync-summary.js';

export const QUEUE_NAME = 'credport-syncs';

/** What `credport sync` and `POST /api/v1/syncs` put on the queue: ids and options, never a secret. */
export interface SyncRequest {
  sourceId: string;
  destinationId: string;
  streams?: string[];
  fullRefresh?: boolean;
  concurrency?: number;
  /** Who asked for it, for the audit trail of the worker that runs it (set by enqueue). */
  actor?: string;
  /** The workspace and role it was asked in: the worker runs it in those (set by enqueue). */
  access?: Access;
  /** Its failed tries so far (set by the workers that ran it). */
  retry?: RetryHistory;
  /** Put back after it failed for good (retryFailed): never a first start, so never a full refresh. */
  retried?: boolean;
}

export interface SyncQueue {
  /** Puts a sync on the queue; returns its job id. */
  enqueue(request: SyncRequest): Promise<string>;
  /** Follows a job to its end: its events as the worker publishes them, then its summary or its error. */
  follow(jobId: string, onEvent: (event: SyncEvent) => void): Promise<SyncSummary>;
  /**
   * Cancels a job: one not yet running is taken off the queue (true); a running one is asked to
   * stop after its current page's checkpoint, and then fails as cancelled (false).
   */
  cancel(jobId: string): Promise<boolean>;
  /** Puts the failed jobs of a workspace back on the queue (not those a user cancelled); says which. */
  retryFailed(filter: RetryFilter): Promise<RetryOutcome>;
  close(): Promise<void>;
}

// Workers listen here for cancels: the job's id, published by whoever follows it (the API's cancel).
const CANCEL_CHANNEL = 'credport:sync-cancel';

// A worker killed with kill -9 stops renewing its job's lock: after this long another worker's
// stalled-job check hands the job on, and the new run resumes at the checkpoint.
const DEFAULT_LOCK_MS = 30_000;
// BullMQ's own count of tries is only a backstop: the workers decide when a job has had enough (retry-plan.ts).
const MAX_TRIES = 10_000;
// A job a stopping worker put back is taken again at once by another worker.
const HANDED_BACK_DELAY_MS = 100;
// A progress bar redrawn ten times a second looks live; more is load on Redis and every follower.
const PROGRESS_EVERY_MS = 100;

const connection = (client: RedisClient) => client as never;

/** How the process names the queue's server in what it says about its connection. */
export const queueServer = (url: string) => `the queue (CREDPORT_QUEUE ${redactUri(url)})`;

/** `access`: the access of a call made outside withAccess (a library host's own), carried to the worker with the job. */
/** `retryForMs`: how long a follower waits for an unreachable queue before it gives up (CREDPORT_RETRY_FOR). */
export async function openSyncQueue(url: string, options: { access?: () => Access; retryForMs?: number } = {}): Promise<SyncQueue> {
  const clients: RedisClient[] = [];
  const closeAll = () => Promise.all(clients.map((c) => (c.isOpen ? c.close().catch(() => undefined) : undefined)));
  let queue: Queue;
  let events: QueueEvents;
  try {
    clients.push(
      await connectRedis(url, { server: queueServer(url), unavailable: 'queue_unavailable' }),
      await connectRedis(url, { server: queueServer(url), unavailable: 'queue_unavailable' }),
    );
    queue = new Queue(QUEUE_NAME, { connection: connection(clients[0]!) });
    events = new QueueEvents(QUEUE_NAME, { connection: connection(clients[1]!) });
    // A Redis hiccup: the follower's own read fails by name; without a listener BullMQ prints raw errors.
    queue.on('error', () => undefined);
    events.on('error', () => undefined);
    // Each followed job adds its own three listeners until it ends: a server follows any number at once.
    events.setMaxListeners(0);
    await events.waitUntilReady();
  } catch (error) {
    // Nothing left open to keep the process alive after it reports the error.
    await closeAll();
    throw error;
  }
  return {
    async enqueue(request) {
      const jobId = `sync_${randomBytes(8).toString('hex')}`;
      const actor = currentActor();
      const access = contextAccess() ?? options.access?.();
      await queue.add(
        'sync',
        { ...request, ...(actor ? { actor } : {}), ...(access ? { access } : {}) },
        {
          jobId,
          attempts: MAX_TRIES,
          // The delay is the worker's decision, carried by the error it fails the try with.
          backoff: { type: 'credport' },
          removeOnComplete: { age: 7 * 24 * 3600 },
          removeOnFail: { age: 30 * 24 * 3600 },
        },
      );
      return jobId;
    },
    follow: (jobId, onEvent) => follow(queue, events, jobId, onEvent, options.retryForMs ?? DEFAULT_RETRY_FOR_MS),
    async cancel(jobId) {
      const job = await Job.fromId(queue, jobId);
      const state = job ? await job.getState() : undefined;
      if (job && state !== undefined && ['waiting', 'delayed', 'prioritized', 'waiting-children'].includes(state)) {
        // A worker may take it between the look and the removal: then it is running, and told below.
        const removed = await job.remove().then(
          () => true,
          () => false,
        );
        if (removed) return true;
      }
      await clients[0]!.publish(CANCEL_CHANNEL, jobId);
      return false;
    },
    retryFailed: (filter) => retryFailed(queue, filter),
    async close() {
      await events.close();
      await queue.close();
      await closeAll();
    },
  };
}

/** How often a follower looks that its job is still on the queue (Redis restarted without persistence loses it). */
export const FOLLOW_CHECK_MS = 2_000;

function follow(
  queue: Queue,
  events: QueueEvents,
  jobId: string,
  onEvent: (event: SyncEvent) => void,
  giveUpAfterMs: number,
  checkMs = FOLLOW_CHECK_MS,
): Promise<SyncSummary> {
  return new Promise((resolve, reject) => {
    let last: SyncEvent | undefined;
    const onProgress = ({ jobId: id, data }: { jobId: string; data: unknown }) => {
      if (id !== jobId) return;
      last = data as SyncEvent;
      onEvent(last);
    };
    const onCompleted = ({ jobId: id, returnvalue }: { jobId: string; returnvalue: unknown }) =>
      id === jobId && done(() => resolve(parseSummary(returnvalue)));
    const onFailed = ({ jobId: id, failedReason }: { jobId: string; failedReason: string }) =>
      id === jobId && done(() => reject(remoteError(failedReason)));
    // A job the queue no longer holds ends no other way: no event will ever come for it.
    let unreachableSince: number | undefined;
    const watch = setInterval(() => {
      Job.fromId(queue, jobId).then(
        (job) => {
          unreachableSince = undefined;
          if (!job) done(() => reject(jobLost(jobId, last)));
        },
        (error: unknown) => {
          // Redis away for a moment: the next look tries again, up to the fleet's bound.
          unreachableSince ??= Date.now();
          if (Date.now() - unreachableSince >= giveUpAfterMs) done(() => reject(queueAway(error)));
        },
      );
    }, checkMs);
    // Never what keeps a process alive: a follow whose caller stopped waiting (a race lost to a cancel) ends with its queue.
    watch.unref();
    function done(settle: () => void) {
      clearInterval(watch);
      events.off('progress', onProgress);
      events.off('completed', onCompleted);
      events.off('failed', onFailed);
      settle();
    }
    events.on('progress', onProgress);
    events.on('completed', onCompleted);
    events.on('failed', onFailed);
    // A job that ended before we listened: its end is in the job itself.
    Job.fromId(queue, jobId)
      .then(async (job) => {
        if (!job)
          return done(() =>
            reject(new RemoteSyncError({ code: 'not_found', message: `no sync job ${jobId} on the queue`, exitCode: ExitCode.badInput })),
          );
        const state = await job.getState();
        // A job to be retried waits (delayed): in the failed state it is final, whatever its attempts.
        if (state === 'completed') done(() => resolve(parseSummary(job.returnvalue)));
        else if (state === 'failed') done(() => reject(remoteError(job.failedReason)));
      })
      .catch((error: unknown) => done(() => reject(queueAway(error))));
  });
}

/** The job vanished from the queue while followed (a Redis restart without persistence, a flush): said with what its worker last reported. */
function jobLost(jobId: string, last: SyncEvent | undefined): RemoteSyncError {
  const said = last ? `its worker last reported ${describeEvent(last)}` : 'no worker had reported on it';
  return new RemoteSyncError({
    code: 'job_lost',
    message:
      `sync job ${jobId} is no longer on the queue (cancelled before a worker took it, or lost by Redis: restarted without ` +
      `persistence, or flushed); ${said}. Run the sync again: it resumes at its last checkpoint`,
    exitCode: ExitCode.store,
  });
}

function describeEvent(event: SyncEvent): string {
  const stream = 'stream' in event && typeof event.stream === 'string' ? ` of ${event.stream}` : '';
  const records =
    'total' in event
      ? ` (${event.total} records so far)`
      : 'records' in event && typeof event.records === 'number'
        ? ` (${event.records} records)`
        : '';
  return `"${event.event}"${stream}${records}`;
}

function queueAway(error: unknown): RemoteSyncError {
  return new RemoteSyncError({
    code: 'queue_unavailable',
    message: `the queue cannot be read: ${failureReason(error)}; the sync may still run in its worker`,
    exitCode: ExitCode.store,
  });
}

function parseSummary(value: unknown): SyncSummary {
  return (typeof value === 'string' ? JSON.parse(value) : value) as SyncSummary;
}

/** The worker writes a credport error as JSON into the job's failure reason; anything else is internal. */
function remoteError(reason: string): RemoteSyncError {
  return new RemoteSyncError(
    workerFailure(reason) ?? {
      code: 'internal',
      message: "the sync failed in a worker with an internal error (see the worker's output)",
      exitCode: ExitCode.internal,
    },
  );
}

export interface WorkerOptions {
  concurrency?: number;
  /** How long a sync is tried again while the store or the queue is away (CREDPORT_RETRY_FOR, default 15 min). */
  retryForMs?: number;
  /** How long a job's lock lasts without renewal (CREDPORT_QUEUE_LOCK_MS): a dead worker's job moves on after it. */
  lockMs?: number;
  onJob?: (report: JobReport) => void;
}

export interface JobReport {
  jobId: string;
  request: SyncRequest;
  outcome: 'started' | 'finished' | 'failed' | 'returned';
  summary?: SyncSummary;
  error?: ErrorDetails;
  /** `returned`: when it is tried again. */
  retryInMs?: number;
  /** `finished`: the queue no longer held the job when its sync ended (Redis restarted without persistence, or flushed), so its followers were told it was lost. */
  lost?: true;
}

export interface RunningWorker {
  /** Stops taking jobs; running syncs stop after their current page's checkpoint and go back on the queue. */
  stop(): Promise<void>;
  /** Settles once no sync runs in this worker: their checkpoints are in the store, whether or not the queue has heard. */
  syncsStopped(): Promise<void>;
}

/** The API's way to run a sync when there is a queue: put it there, follow it, pass a cancel on to its worker. */
export function queuedRun(queue: SyncQueue) {
  return async (
    sourceId: string,
    destinationId: string,
    options: {
      streams?: string[];
      fullRefresh?: boolean;
      concurrency?: number;
      signal?: AbortSignal;
      onEvent?: (event: SyncEvent) => void;
    },
  ): Promise<SyncSummary> => {
    const jobId = await queue
      .enqueue({
        sourceId,
        destinationId,
        ...(options.streams ? { streams: options.streams } : {}),
        ...(options.fullRefresh ? { fullRefresh: true } : {}),
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      })
      // Redis away: said by name, as the follower says it, not as an internal error.
      .catch((error: unknown) =>
        Promise.reject(
          new StoreError('queue_unavailable', `the queue cannot be reached: ${failureReason(error)}; start the sync again once it is back`),
        ),
      );
    let takenOff: (error: Error) => void = () => undefined;
    const cancelledBeforeRun = new Promise<never>((_, reject) => (takenOff = reject));
    const cancel = () =>
      void queue
        .cancel(jobId)
        .then((removed) => removed && takenOff(new SyncCancelledError(undefined)))
        .catch(() => undefined);
    if (options.signal?.aborted) cancel();
    else options.signal?.addEventListener('abort', cancel, { once: true });
    return Promise.race([queue.follow(jobId, options.onEvent ?? (() => undefined)), cancelledBeforeRun]);
  };
}

/** A try that failed and goes back on the queue: its message is the error's JSON (what a follower reads), its delay the worker's choice. */
interface TryAgain extends Error {
  retryInMs: number;
}

function tryAgain(details: ErrorDetails, retryInMs: number): TryAgain {
  return Object.assign(new Error(JSON.stringify(details)), { retryInMs });
}

/** Takes sync jobs from the queue and runs them with this process's credport, publishing their events. */
export async function startSyncWorker(url: string, credport: Credport, options: WorkerOptions = {}): Promise<RunningWorker> {
  // BullMQ's connection waits out an outage (see connectRedis); the cancel listener fails fast like any subscriber.
  const client = await connectRedis(url, { server: queueServer(url), unavailable: 'queue_unavailable', waitWhileDown: true });
  const running = new Map<AbortController, string>();
  const syncs = new Set<Promise<unknown>>();
  const listener = await connectRedis(url, { server: queueServer(url), unavailable: 'queue_unavailable' }).catch(async (error: unknown) => {
    await client.close().catch(() => undefined);
    throw error;
  });
  const userCancelled = new Set<string>();
  await listener.subscribe(CANCEL_CHANNEL, (jobId) => {
    for (const [controller, id] of running) {
      if (id !== jobId) continue;
      userCancelled.add(id);
      controller.abort();
    }
  });
  let stopping = false;
  const workerActor = `worker:${hostname()}`;
  const lockMs = options.lockMs ?? DEFAULT_LOCK_MS;
  const retryForMs = options.retryForMs ?? DEFAULT_RETRY_FOR_MS;
  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job<SyncRequest>) => {
      const request = job.data;
      const stop = new AbortController();
      running.set(stop, job.id!);
      // One after another, so the follower sees the events in the order they happened.
      let published = Promise.resolve();
      // Not the engine's `failed`: a failure put back on the queue is not the end, and the job's own
      // failure (to the follower, once final) says how it ended.
      const progress = coalesceProgress((event) => {
        published = published.then(() => job.updateProgress(event as never)).catch(() => undefined);
      }, PROGRESS_EVERY_MS);
      const publish = (event: SyncEvent) => event.event !== 'failed' && progress.push(event);
      options.onJob?.({ jobId: job.id!, request, outcome: 'started' });
      try {
        const sync = withActor(request.actor ?? workerActor, () =>
          withAccess(request.access ?? { workspace: DEFAULT_WORKSPACE, role: 'editor' }, () =>
            credport.syncs.run(request.sourceId, request.destinationId, {
              ...(request.streams ? { streams: request.streams } : {}),
              // A retried or handed-on run resumes (a stalled job's hand-over counts in attemptsStarted, not attemptsMade).
              fullRefresh: request.fullRefresh === true && request.retried !== true && job.attemptsStarted <= 1,
              ...(request.concurrency !== undefined ? { concurrency: request.concurrency } : {}),
              signal: stop.signal,
              onEvent: publish,
              jobId: job.id!,
            }),
          ),
        );
        syncs.add(sync);
        void sync.catch(() => undefined).finally(() => syncs.delete(sync));
        const summary = await sync;
        progress.flush();
        await published;
        // A job Redis lost while it ran (a restart without persistence) ends here unseen by anyone: say so.
        const lost = (await job.getState().catch(() => 'active')) === 'unknown';
        options.onJob?.({ jobId: job.id!, request, outcome: 'finished', summary, ...(lost ? { lost: true as const } : {}) });
        return summary;
      } catch (error) {
        progress.flush();
        await published;
        const details: ErrorDetails =
          error instanceof CredportError ? error.toJSON() : { code: 'internal', message: 'internal error', exitCode: ExitCode.internal };
        // A worker stopping (SIGTERM) hands its job back at once; a user's cancel ends it.
        if (stopping && error instanceof SyncCancelledError && !userCancelled.has(job.id!)) {
          options.onJob?.({ jobId: job.id!, request, outcome: 'returned', error: details, retryInMs: HANDED_BACK_DELAY_MS });
          throw tryAgain(details, HANDED_BACK_DELAY_MS);
        }
        const decision = nextTry(details, request.retry ?? {}, retryForMs);
        if (!decision.again) {
          options.onJob?.({ jobId: job.id!, request, outcome: 'failed', error: decision.details });
          throw new UnrecoverableError(JSON.stringify(decision.details));
        }
        // The next worker to take it continues the count; Redis away now means the queue waits with it.
        await job.updateData({ ...request, retry: decision.history }).catch(() => undefined);
        options.onJob?.({ jobId: job.id!, request, outcome: 'returned', error: details, retryInMs: decision.delayMs });
        throw tryAgain(details, decision.delayMs);
      } finally {
        running.delete(stop);
      }
    },
    {
      connection: connection(client),
      concurrency: options.concurrency ?? 1,
      lockDuration: lockMs,
      stalledInterval: Math.max(500, Math.floor(lockMs / 2)),
      maxStalledCount: OTHER_TRIES,
      settings: {
        backoffStrategy: (_tries: number, _type?: string, error?: Error) =>
          (error as Partial<TryAgain> | undefined)?.retryInMs ?? HANDED_BACK_DELAY_MS,
      },
    },
  );
  worker.on('error', () => undefined); // a Redis hiccup; the worker reconnects
  try {
    await worker.waitUntilReady();
  } catch (error) {
    // Redis went away between our connect and BullMQ's: close what we opened, or the process never exits.
    await worker.close(true).catch(() => undefined);
    for (const c of [client, listener]) if (c.isOpen) await c.close().catch(() => undefined);
    throw error;
  }
  return {
    async stop() {
      stopping = true;
      for (const controller of running.keys()) controller.abort();
      await worker.close();
      for (const c of [client, listener]) if (c.isOpen) await c.close();
    },
    async syncsStopped() {
      while (syncs.size > 0) await Promise.allSettled([...syncs]);
    },
  };
}
