import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { coalesceProgress } from '../../src/queue/coalesce-progress.js';
import type { SyncEvent } from '../../src/generated/sync-event.js';

const page = (stream: string, n: number): SyncEvent => ({
  event: 'page',
  stream,
  page: n,
  records: 100,
  total: n * 100,
  sent: n * 100,
  rejected: 0,
  skipped: 0,
});
const checkpoint = (stream: string, n: number): SyncEvent => ({
  event: 'checkpoint',
  stream,
  pages: n,
  records: n * 100,
  offset: n * 1000,
});
const label = (e: SyncEvent) => `${e.event}:${'stream' in e ? e.stream : ''}:${'page' in e ? e.page : 'pages' in e ? e.pages : ''}`;

describe('coalesceProgress (what a queued sync sends its followers)', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('sends only the latest page and checkpoint of each stream per interval, in the order they last happened', () => {
    jest.useFakeTimers();
    const sent: string[] = [];
    const progress = coalesceProgress((e) => sent.push(label(e)), 100);
    for (let n = 1; n <= 50; n++) {
      progress.push(page('tags', n));
      progress.push(checkpoint('tags', n));
    }
    progress.push(page('contacts', 7));
    expect(sent).toEqual([]); // held until the interval ends
    jest.advanceTimersByTime(100);
    expect(sent).toEqual(['page:tags:50', 'checkpoint:tags:50', 'page:contacts:7']);
    progress.push(page('tags', 51));
    jest.advanceTimersByTime(100);
    expect(sent.slice(3)).toEqual(['page:tags:51']);
  });

  it('sends every other event at once, after the progress held back before it, and flushes on demand', () => {
    jest.useFakeTimers();
    const sent: string[] = [];
    const progress = coalesceProgress((e) => sent.push(label(e)), 100);
    progress.push({ event: 'stream_started', stream: 'tags', fromCheckpoint: false });
    progress.push(page('tags', 1));
    progress.push(page('tags', 2));
    progress.push({ event: 'rate_limited', stream: 'tags', waitMs: 20 });
    progress.push(page('tags', 3));
    progress.push({ event: 'stream_finished', stream: 'tags', pages: 3, records: 300, sent: 300, rejected: 0, skipped: 0 });
    progress.push(checkpoint('tags', 3));
    progress.flush();
    expect(sent).toEqual([
      'stream_started:tags:',
      'page:tags:2',
      'rate_limited:tags:',
      'page:tags:3',
      'stream_finished:tags:3',
      'checkpoint:tags:3',
    ]);
    jest.advanceTimersByTime(1000);
    expect(sent).toHaveLength(6); // nothing sent twice
  });
});
