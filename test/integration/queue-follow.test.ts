import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { openSyncQueue, type SyncQueue } from '../../src/queue/sync-queue.js';
import { ensureRedis, freshRedisUri } from '../helpers/test-servers.js';

/**
 * Following a queued sync on a real Redis: when the queue loses the job (a Redis restarted without
 * persistence, a flush), no event will ever come for it, so the follower must notice and say so.
 */
let queue: SyncQueue | undefined;
beforeAll(() => ensureRedis());
afterEach(async () => {
  await queue?.close();
  queue = undefined;
});

describe('a follower of a queued sync', () => {
  it('whose job the queue lost says so within a few seconds, naming the job, with exit code 5', async () => {
    const url = await freshRedisUri();
    queue = await openSyncQueue(url);
    const jobId = await queue.enqueue({ sourceId: 'src_0123456789abcdef', destinationId: 'dst_0123456789abcdef' });
    const started = Date.now();
    const followed = queue.follow(jobId, () => undefined).catch((error: unknown) => error);
    // Redis restarted without persistence: everything it held is gone.
    const { createClient } = await import('@keyv/redis');
    const redis = createClient({ url });
    await redis.connect();
    await redis.flushDb();
    await redis.close();
    const error = await followed;
    expect(error).toMatchObject({
      code: 'job_lost',
      exitCode: 5,
      message: `sync job ${jobId} is no longer on the queue (cancelled before a worker took it, or lost by Redis: restarted without persistence, or flushed); no worker had reported on it. Run the sync again: it resumes at its last checkpoint`,
    });
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('whose job is still there keeps waiting for it', async () => {
    queue = await openSyncQueue(await freshRedisUri());
    const jobId = await queue.enqueue({ sourceId: 'src_0123456789abcdef', destinationId: 'dst_0123456789abcdef' });
    let settled = false;
    const followed = queue
      .follow(jobId, () => undefined)
      .then(
        () => (settled = true),
        () => (settled = true),
      );
    await new Promise((resolve) => setTimeout(resolve, 5_000)); // two looks and more
    expect(settled).toBe(false);
    // Cancelled before a worker took it: off the queue, so the follower ends too, saying so.
    const ended = queue.follow(jobId, () => undefined).catch((error: unknown) => error);
    expect(await queue.cancel(jobId)).toBe(true);
    expect(await ended).toMatchObject({ code: 'job_lost', message: expect.stringContaining('cancelled before a worker took it') });
    await followed;
  });
});
