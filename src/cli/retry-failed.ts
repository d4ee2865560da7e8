import { queueUnusable } from '../queue/queue-unusable.js';
import type { RetryFilter } from '../queue/retry-failed.js';
import { printJsonLine, say, sayError } from './output.js';

/**
 * `credport sync --retry-failed`: puts the workspace's failed jobs back on the queue and says which,
 * without following them (their workers report on them; a follower by job id still works).
 */
export async function retryFailedOnQueue(url: string, filter: RetryFilter, json: boolean): Promise<void> {
  const { openSyncQueue } = await import('../queue/sync-queue.js');
  const queue = await openSyncQueue(url).catch((error: unknown) => Promise.reject(queueUnusable(url, error)));
  try {
    const { retried, cancelled } = await queue.retryFailed(filter);
    for (const job of retried) {
      if (json) printJsonLine({ job: job.jobId, source: job.sourceId, destination: job.destinationId, queued: true, failure: job.failure });
      else
        say(
          `${job.jobId} (${job.sourceId} -> ${job.destinationId}): back on the queue; it failed with ${job.failure.code}: ` +
            `${job.failure.message}`,
        );
    }
    for (const job of cancelled) {
      if (json)
        printJsonLine({ job: job.jobId, source: job.sourceId, destination: job.destinationId, queued: false, failure: job.failure });
      else
        sayError(
          `${job.jobId} (${job.sourceId} -> ${job.destinationId}): left as it is, a user cancelled it (run \`credport sync ` +
            `${job.sourceId} --to ${job.destinationId}\` to run it again)`,
        );
    }
    if (json) return printJsonLine({ retried: retried.length, cancelledLeft: cancelled.length });
    const which = `${filter.sourceId ? ` of ${filter.sourceId}` : ''}${filter.destinationId ? ` to ${filter.destinationId}` : ''}`;
    if (retried.length === 0) say(`no failed syncs${which} in workspace ${filter.workspace} to retry`);
    else
      say(
        `${retried.length} failed sync${retried.length === 1 ? '' : 's'}${which} back on the queue: a worker resumes each at its ` +
          `checkpoint`,
      );
  } finally {
    await queue.close();
  }
}
