import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { queueUnusable } from '../../queue/queue-unusable.js';
import { redactUri } from '../../text/redact-uri.js';
import { printJsonLine, say } from '../output.js';
import { durationMs, wholeNumber } from '../option-parsers.js';
import { announcePass, announcePassFailed } from '../reverify-output.js';
import { type GlobalOptions, withCredport } from '../run-action.js';

interface WorkerOptions extends GlobalOptions {
  concurrency?: number;
  reverifyEvery?: number;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('take syncs from the queue (CREDPORT_QUEUE) and run them, on this machine, until stopped')
    .option('--concurrency <n>', 'syncs run at once by this worker (default 1)', wholeNumber('concurrency'))
    .option('--json', 'one JSON line a job: started, finished, failed, returned (put back on the queue)')
    .option('--reverify-every <duration>', 're-verify every credential not verified within this long, now and then at this interval (30m, 24h)', durationMs('reverify-every'))
    .addHelpText(
      'after',
      `
Every worker needs the same CREDPORT_QUEUE, CREDPORT_STORE and CREDPORT_MASTER_KEY as the machines that
enqueue (credport sync, the API); CREDPORT_REDIS shares each credential's rate limit between them.
SIGTERM or Ctrl-C: running syncs stop after their current page's checkpoint and go back on the queue,
where another worker resumes them. A worker killed outright loses its jobs to another worker once their
lock runs out (CREDPORT_QUEUE_LOCK_MS, default 30000).`,
    )
    .action(async (_o: unknown, command: Command) => {
      const options = command.optsWithGlobals<WorkerOptions>();
      const url = process.env.CREDPORT_QUEUE?.trim();
      if (!url) throw new InputError('credport worker needs a queue: set CREDPORT_QUEUE=redis://host:6379', { field: 'CREDPORT_QUEUE' });
      const lockMs = process.env.CREDPORT_QUEUE_LOCK_MS ? Number(process.env.CREDPORT_QUEUE_LOCK_MS) : undefined;
      if (lockMs !== undefined && (!Number.isInteger(lockMs) || lockMs < 500)) throw new InputError('CREDPORT_QUEUE_LOCK_MS must be a whole number of milliseconds, 500 or more', { field: 'CREDPORT_QUEUE_LOCK_MS' });
      await withCredport(options, async (credport) => {
        // Loaded here: BullMQ is for workers and the queue, not every command.
        const { startSyncWorker } = await import('../../queue/sync-queue.js');
        const concurrency = options.concurrency ?? 1;
        const worker = await startSyncWorker(url, credport, {
          concurrency,
          ...(lockMs !== undefined ? { lockMs } : {}),
          onJob: (report) => {
            if (options.json) return printJsonLine({ event: report.outcome, job: report.jobId, ...report.request, ...(report.summary ? { records: report.summary.records } : {}), ...(report.error ? { error: report.error } : {}) });
            const what = `${report.jobId} (${report.request.sourceId} -> ${report.request.destinationId})`;
            if (report.outcome === 'started') say(`${what}: started`);
            else if (report.outcome === 'finished') say(`${what}: synced ${report.summary!.records} records`);
            else say(`${what}: ${report.outcome === 'returned' ? 'back on the queue' : 'failed'}: ${report.error!.message}`);
          },
        }).catch((error: unknown) => Promise.reject(queueUnusable(url, error)));
        if (options.json) process.stdout.write(`${JSON.stringify({ event: 'ready', concurrency, queue: redactUri(url), pid: process.pid })}\n`);
        else say(`worker ${process.pid} ready: ${concurrency} sync${concurrency === 1 ? '' : 's'} at a time from ${redactUri(url)}`);
        const schedule = options.reverifyEvery ? await credport.scheduleReverify(options.reverifyEvery, { onPass: (summary) => announcePass(summary, options.json === true), onError: (error) => announcePassFailed(error, options.json === true) }) : undefined;
        await new Promise<void>((resolve) => {
          for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
        });
        await schedule?.stop();
        await worker.stop();
      });
    });
}
