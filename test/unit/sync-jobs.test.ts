import { describe, expect, it } from '@jest/globals';
import { SyncJobs } from '../../src/server/sync-jobs.js';
import type { SyncEvent } from '../../src/generated/sync-event.js';

describe('SyncJobs', () => {
  it("shows a job ended as soon as its last event is published, before the run's promise settles", async () => {
    let release!: () => void;
    const settled = new Promise<void>((resolve) => (release = resolve));
    const jobs = new SyncJobs(async (_source, _destination, options) => {
      options.onEvent?.({
        event: 'failed',
        stream: 'tags',
        code: 'sync_cancelled',
        message: 'cancelled at a checkpoint',
        exitCode: 3,
      } as SyncEvent);
      await settled;
      throw new Error('the run ends after its event');
    });
    const job = jobs.start({ source: 'src', destination: 'dst' }, ['tags']);
    const seen: string[] = [];
    jobs.subscribe(job.id, 0, ({ event }) => seen.push(`${event.event}:${jobs.get(job.id).status}`));
    expect(seen).toEqual(['failed:cancelled']);
    expect(jobs.cancel(job.id).status).toBe('cancelled');
    release();
    await jobs.stopAll();
  });
});
