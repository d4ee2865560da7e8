import type { Command } from 'commander';
import { commaList, wholeNumber } from '../option-parsers.js';
import type { SyncSummary } from '../../sync/sync-events.js';
import { type GlobalOptions, withCredport } from '../run-action.js';

export function registerSyncCommand(program: Command): void {
  program
    .command('sync')
    .description('move records from a source to a destination, page by page, with a checkpoint after each page (a rerun resumes)')
    .argument('<source-id>', 'source id')
    .requiredOption('--to <destination-id>', 'destination id')
    .option('--streams <a,b>', 'only these streams', commaList)
    .option('--full-refresh', 'forget the checkpoint and read every stream from the start')
    .option('--concurrency <n>', "requests of the credential in flight at once, 1-32: streams are read side by side and numbered pages ahead (default: the source's setting, else the connector's; 1 reads one stream after another)", wholeNumber('concurrency'))
    .option('--json', 'one JSON event per line (started, stream_started, page, rate_limited, retry, checkpoint, stream_finished, finished, failed)')
    .action(async (sourceId: string, _o: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { to: string; streams?: string[]; fullRefresh?: boolean; concurrency?: number }>();
      // With --json the error is already a `failed` event; run-action adds the usual error object.
      await withCredport(options, async ({ configs, syncs }) => {
        const source = await configs.source(sourceId);
        // cli-progress is loaded only where bars are drawn.
        const progress = options.json ? undefined : (await import('../sync-progress.js')).createProgress(options.streams ?? source.streams);
        // Ctrl-C stops after the current page's checkpoint (exit 130); a second one kills at once.
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, onSignal);
        try {
          const summary = await syncs.run(sourceId, options.to, {
            ...(options.streams ? { streams: options.streams } : {}),
            fullRefresh: options.fullRefresh === true,
            ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
            signal: stop.signal,
            onEvent: (event) => {
              if (options.json) return void process.stdout.write(`${JSON.stringify(event)}\n`);
              if (event.event === 'started' && event.resumedRun) process.stderr.write(`${resumeLine(event.skipped, event.resumed)}\n`);
              progress!.onEvent(event);
            },
          });
          progress?.stop();
          if (!options.json) {
            console.log(`synced ${summary.records} records in ${summary.pages} pages in ${(summary.ms / 1000).toFixed(1)} s (${summary.rateLimited} rate-limited waits, ${summary.retries} retries)${rateNote(summary)}`);
          }
        } finally {
          for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, onSignal);
          progress?.stop();
        }
      });
    });
}

/** Says what finishing an interrupted run skips and continues, before the bars start. */
export function resumeLine(skipped: string[], resumed: string[]): string {
  const said = [
    skipped.length > 0 ? `${skipped.join(', ')} already done, not read again` : '',
    resumed.length > 0 ? `${resumed.join(', ')} continue${resumed.length === 1 ? 's' : ''} from the checkpoint` : '',
  ].filter(Boolean);
  return `finishing the interrupted run${said.length > 0 ? `: ${said.join('; ')}` : ''}`;
}

/** ", 912 requests/min, 0.91 of the provider's 1000/min" when the provider announced its limit. */
export function rateNote({ rate }: SyncSummary): string {
  if (!rate) return '';
  const limit = rate.limitPerMinute !== undefined ? `, ${rate.ofLimit} of the provider's ${rate.limitPerMinute}/min` : '';
  return `; ${rate.requests} requests, ${rate.perMinute}/min${limit}`;
}
