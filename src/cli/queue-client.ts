import { CredportError } from '../errors.js';
import { queueUnusable } from '../queue/queue-unusable.js';
import { retryForMsFromEnv } from '../settings.js';
import type { SyncRequest } from '../queue/sync-queue.js';
import type { SyncEvent } from '../generated/sync-event.js';
import type { SyncSummary } from '../generated/sync-summary.js';

/**
 * `credport sync` with CREDPORT_QUEUE: puts the sync on the queue, then (unless detached) follows
 * the worker's events to the end. Returns the summary, or undefined when detached or no longer followed.
 */
export async function onQueue(
  url: string,
  request: SyncRequest,
  options: { detach: boolean; json: boolean; onEvent: (event: SyncEvent) => void; signal: AbortSignal },
): Promise<SyncSummary | undefined> {
  const { openSyncQueue } = await import('../queue/sync-queue.js');
  const queue = await openSyncQueue(url, { retryForMs: retryForMsFromEnv(process.env) }).catch((error: unknown) =>
    Promise.reject(queueUnusable(url, error)),
  );
  try {
    const jobId = await queue.enqueue(request);
    if (options.detach) {
      process.stdout.write(options.json ? `${JSON.stringify({ job: jobId, queued: true })}\n` : `${jobId}\n`);
      return undefined;
    }
    if (!options.json) process.stderr.write(`queued as ${jobId}; a worker runs it\n`);
    const stopped = new Promise<undefined>((resolve) => options.signal.addEventListener('abort', () => resolve(undefined), { once: true }));
    const summary = await Promise.race([queue.follow(jobId, options.onEvent), stopped]).catch((error: unknown) => {
      // The worker publishes no `failed` (a failure put back on the queue is not the end): the job's
      // final failure is told as that event here, so a queued sync's events end as a local one's do.
      if (error instanceof CredportError)
        options.onEvent({ event: 'failed', code: error.code, message: error.message, exitCode: error.exitCode });
      throw error;
    });
    if (summary === undefined) process.stderr.write(`stopped following ${jobId}; the sync goes on in its worker\n`);
    return summary;
  } finally {
    await queue.close();
  }
}
