import cliProgress from 'cli-progress';
import type { SyncEvent } from '../generated/sync-event.js';
import { terminalSafe } from '../text/terminal-safe.js';
import { sayError } from './output.js';

/** A bar per stream on a terminal, all live at once (records, pages, rate); plain lines elsewhere. */
export function createProgress(streams: string[]): { onEvent: (event: SyncEvent) => void; stop: () => void } {
  if (!process.stderr.isTTY) {
    return {
      onEvent: (event) => {
        if (event.event === 'stream_finished')
          sayError(`${event.stream}: ${event.records} records in ${event.pages} page${event.pages === 1 ? '' : 's'}`);
        if (event.event === 'rate_limited') sayError(`rate limited: waiting ${event.waitMs} ms`);
      },
      stop: () => undefined,
    };
  }
  const multibar = new cliProgress.MultiBar(
    {
      format: ' {stream} | {records} records | {pages} pages | {rate} rec/s | {status}',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  // A stream's name is the store's (or a folder's file name): shown terminal-safe in its bar.
  const label = (stream: string) => terminalSafe(stream, 60);
  const width = Math.max(...streams.map((s) => label(s).length));
  const bars = new Map<string, { bar: cliProgress.SingleBar; started: number }>();
  const bar = (stream: string) => {
    let entry = bars.get(stream);
    if (!entry) {
      entry = {
        bar: multibar.create(0, 0, { stream: label(stream).padEnd(width), records: 0, pages: 0, rate: 0, status: 'reading' }),
        started: Date.now(),
      };
      bars.set(stream, entry);
    }
    return entry;
  };
  return {
    onEvent: (event) => {
      // Every stream gets its bar at once: those waiting for a slot say so.
      if (event.event === 'started') {
        for (const stream of event.streams)
          bar(stream).bar.update(0, { status: event.skipped.includes(stream) ? 'done earlier' : 'waiting' });
      } else if (event.event === 'stream_started') {
        const entry = bar(event.stream);
        entry.started = Date.now();
        entry.bar.update(0, { status: 'reading' });
      } else if (event.event === 'page') {
        const { bar: b, started } = bar(event.stream);
        const rate = Math.round((event.total * 1000) / Math.max(1, Date.now() - started));
        b.update(0, { records: event.total, pages: event.page, rate, status: 'reading' });
      } else if (event.event === 'rate_limited' || event.event === 'retry') {
        bar(event.stream).bar.update(0, {
          status: event.event === 'retry' ? `retrying (${terminalSafe(String(event.reason), 80)})` : `rate limited ${event.waitMs} ms`,
        });
      } else if (event.event === 'stream_finished') {
        bar(event.stream).bar.update(0, { records: event.records, pages: event.pages, status: 'done' });
      }
    },
    stop: () => multibar.stop(),
  };
}
