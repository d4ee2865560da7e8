import type { Job, Queue } from 'bullmq';
import { DEFAULT_WORKSPACE } from '../access/access.js';
import type { SyncRequest } from './sync-queue.js';
import { workerFailure } from './worker-failure.js';

/** Which failed jobs to put back: the caller's workspace only, optionally one source and/or destination. */
export interface RetryFilter {
  workspace: string;
  sourceId?: string;
  destinationId?: string;
}

export interface FailedJob {
  jobId: string;
  sourceId: string;
  destinationId: string;
  /** How it failed the last time: the worker's error code and message. */
  failure: { code: string; message: string };
}

export interface RetryOutcome {
  /** Back on the queue, under the same job id: a follower or `GET` by that id still finds them. */
  retried: FailedJob[];
  /** Left failed: a user cancelled them, and a bulk retry must not undo that. */
  cancelled: FailedJob[];
}

/**
 * Puts the queue's failed jobs back (`credport sync --retry-failed`), e.g. after an outage that
 * outlasted the worker's own retries. Safe: a sync always resumes at its checkpoint.
 */
export async function retryFailed(queue: Queue, filter: RetryFilter): Promise<RetryOutcome> {
  const outcome: RetryOutcome = { retried: [], cancelled: [] };
  // All ids first: each retry takes a job out of the failed set, which would shift a paged read.
  const failed = (await queue.getFailed(0, -1)) as Job<SyncRequest>[];
  for (const job of failed) {
    if (!job?.id || !matches(job.data, filter)) continue;
    const described: FailedJob = {
      jobId: job.id,
      sourceId: job.data.sourceId,
      destinationId: job.data.destinationId,
      failure: failureOf(job.failedReason),
    };
    if (described.failure.code === 'sync_cancelled') {
      outcome.cancelled.push(described);
      continue;
    }
    // The attempts start over, so the job has its full budget of retries again; `retried` tells the
    // worker that it is not a first start, so a --full-refresh job resumes instead of reading all again.
    // Its count of failed tries starts over too: an outage clock from before would fail it at once.
    const { retry: _before, ...data } = job.data;
    await job.updateData({ ...data, retried: true });
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    outcome.retried.push(described);
  }
  return outcome;
}

function matches(request: SyncRequest | undefined, filter: RetryFilter): boolean {
  if (!request) return false;
  // A job without access was put there by a library host outside any workspace: the worker runs it in the default one.
  if ((request.access?.workspace ?? DEFAULT_WORKSPACE) !== filter.workspace) return false;
  if (filter.sourceId !== undefined && request.sourceId !== filter.sourceId) return false;
  return filter.destinationId === undefined || request.destinationId === filter.destinationId;
}

/** How it failed, as the worker said; anything else was an internal error. */
function failureOf(reason: string | undefined): { code: string; message: string } {
  const details = workerFailure(reason);
  return details
    ? { code: details.code, message: details.message }
    : { code: 'internal', message: "an internal error (see the worker's output)" };
}
