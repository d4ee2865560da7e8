import type { Command } from 'commander';
import { contextAccess, DEFAULT_WORKSPACE } from '../../access/access.js';
import { commaList, wholeNumber } from '../option-parsers.js';
import { InputError } from '../../errors.js';
import type { SyncEvent } from '../../generated/sync-event.js';
import type { SyncSummary } from '../../generated/sync-summary.js';
import { printJsonLine, say, sayError } from '../output.js';
import { type GlobalOptions, runAction, withCredport } from '../run-action.js';
import { startTraceSdk } from '../../telemetry/trace-sdk.js';

export function registerSyncCommand(program: Command): void {
  const command = program
    .command('sync')
    .description('move records from a source to a destination, page by page, with a checkpoint after each page (a rerun resumes)')
    .usage('[options] <source-id> --to <destination-id>\n       credport sync --retry-failed [source-id] [--to <destination-id>] [--json]')
    .argument('<source-id>', 'source id (with --retry-failed: only its failed syncs)')
    .requiredOption('--to <destination-id>', 'destination id (with --retry-failed: only failed syncs into it)')
    .option('--streams <a,b>', 'only these streams', commaList)
    .option('--full-refresh', 'forget the checkpoint and read every stream from the start')
    .option(
      '--concurrency <n>',
      'requests of the credential in flight at once, 1-32: streams are read side by side and numbered pages ahead (default: the ' +
        "source's setting, else the connector's; 1 reads one stream after another)",
      wholeNumber('concurrency'),
    )
    .option(
      '--json',
      'one JSON event per line (started, stream_started, page, rate_limited, retry, checkpoint, stream_finished, finished, failed)',
    )
    .option('--detach', 'with CREDPORT_QUEUE: put the sync on the queue, print its job id and return at once')
    .option(
      '--retry-failed',
      "with CREDPORT_QUEUE: put this workspace's failed syncs back on the queue under their job ids (each resumes at its " +
        'checkpoint; those a user cancelled are left); implies --detach',
    )
    .addHelpText(
      'after',
      '\nWith CREDPORT_QUEUE=redis://... the sync runs in a `credport worker` (on any machine): this command puts it on the queue ' +
        'and follows its progress; Ctrl-C stops following, not the sync.' +
        '\nA queued sync that still fails after its retries (an outage longer than the workers wait) stays failed: once the cause ' +
        "is fixed, `credport sync --retry-failed` runs them all again, or only one source's with `credport sync --retry-failed " +
        '<source-id>`.',
    )
    .action(async (sourceId: string | undefined, _o: unknown, command: Command) => {
      const options = command.optsWithGlobals<
        GlobalOptions & {
          to?: string;
          streams?: string[];
          fullRefresh?: boolean;
          concurrency?: number;
          detach?: boolean;
          retryFailed?: boolean;
        }
      >();
      if (options.retryFailed) return retryFailed(sourceId, options);
      const to = options.to;
      if (sourceId === undefined || to === undefined) throw new Error('unreachable: commander checks <source-id> and --to');
      // With --json the error is already a `failed` event; run-action adds the usual error object.
      await withCredport(options, async ({ configs, syncs }) => {
        const source = await configs.source(sourceId);
        const request = {
          ...(options.streams ? { streams: options.streams } : {}),
          fullRefresh: options.fullRefresh === true,
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
        };
        const queueUrl = process.env.CREDPORT_QUEUE?.trim();
        if (options.detach && !queueUrl)
          throw new InputError('--detach needs a queue: set CREDPORT_QUEUE=redis://host:6379 and run `credport worker`', {
            field: 'detach',
          });
        // cli-progress is loaded only where bars are drawn.
        const progress =
          options.json || options.detach
            ? undefined
            : (await import('../sync-progress.js')).createProgress(options.streams ?? source.streams);
        const onEvent = (event: SyncEvent) => {
          if (options.json) return printJsonLine(event);
          if (event.event === 'started' && event.resumedRun) sayError(resumeLine(event.skipped, event.resumed));
          progress!.onEvent(event);
        };
        // Ctrl-C stops after the current page's checkpoint (exit 130); a second one kills at once.
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, onSignal);
        try {
          let summary: SyncSummary;
          if (queueUrl) {
            // Refused here, at once, what a worker would refuse (an unknown stream, a destination without its operation).
            await syncs.check(sourceId, to, options.streams);
            const { onQueue } = await import('../queue-client.js');
            const followed = await onQueue(
              queueUrl,
              { sourceId, destinationId: to, ...request },
              { detach: options.detach === true, json: options.json === true, onEvent, signal: stop.signal },
            );
            if (!followed) return;
            summary = followed;
          } else {
            // Run here, not by a worker: its trace is this process's to export (OTEL_EXPORTER_OTLP_ENDPOINT), flushed before exit.
            const traces = await startTraceSdk(process.env, 'credport-sync');
            try {
              summary = await syncs.run(sourceId, to, { ...request, signal: stop.signal, onEvent });
            } finally {
              await traces?.shutdown();
            }
          }
          progress?.stop();
          if (!options.json) {
            say(
              `synced ${summary.records} records in ${summary.pages} pages in ${(summary.ms / 1000).toFixed(1)} s ` +
                `(${summary.rateLimited} rate-limited waits, ${summary.retries} retries)${rateNote(summary)}`,
            );
          }
        } finally {
          for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, onSignal);
          progress?.stop();
        }
      });
    });
  // Only with --retry-failed are the source and --to optional (filters): without it, commander's own checks and messages stay.
  command.on('option:retry-failed', () => {
    command.registeredArguments[0]!.required = false;
    for (const option of command.options) if (option.long === '--to') option.mandatory = false;
  });
}

/** `--retry-failed`: the queue's failed jobs of this workspace (of the source, into --to, when given) back on the queue. */
async function retryFailed(
  sourceId: string | undefined,
  options: GlobalOptions & { to?: string; streams?: string[]; fullRefresh?: boolean; concurrency?: number },
): Promise<void> {
  let queueUrl = '';
  // Refused before the store is opened (or a home created): nothing of a new request applies to a job run again as it was asked.
  await runAction(options, async () => {
    for (const [field, given] of [
      ['streams', options.streams],
      ['full-refresh', options.fullRefresh],
      ['concurrency', options.concurrency],
    ] as const) {
      if (given !== undefined)
        throw new InputError(
          `--retry-failed runs each failed sync again as it was asked: --${field} does not apply (it resumes at its checkpoint)`,
          { field },
        );
    }
    queueUrl = process.env.CREDPORT_QUEUE?.trim() ?? '';
    if (!queueUrl)
      throw new InputError('--retry-failed needs the queue the syncs failed on: set CREDPORT_QUEUE=redis://host:6379', {
        field: 'CREDPORT_QUEUE',
      });
  });
  if (!queueUrl) return; // refused above, and said so
  await withCredport(options, async ({ configs }) => {
    // A mistyped id names itself rather than finding nothing to retry.
    if (sourceId !== undefined) await configs.source(sourceId);
    if (options.to !== undefined) await configs.destination(options.to);
    const { retryFailedOnQueue } = await import('../retry-failed.js');
    await retryFailedOnQueue(
      queueUrl,
      {
        workspace: contextAccess()?.workspace ?? DEFAULT_WORKSPACE,
        ...(sourceId !== undefined ? { sourceId } : {}),
        ...(options.to !== undefined ? { destinationId: options.to } : {}),
      },
      options.json === true,
    );
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
