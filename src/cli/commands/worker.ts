import type { Command } from 'commander';
import type { Credport } from '../../open-credport.js';
import { InputError } from '../../errors.js';
import { queueUnusable } from '../../queue/queue-unusable.js';
import type { JobReport } from '../../queue/sync-queue.js';
import { lostServerError, type ServerState, watchRedisConnections } from '../../connections/connection-watch.js';
import { redactUri } from '../../text/redact-uri.js';
import type { JsonLog, LogFormat } from '../../logging/json-log.js';
import type { TraceSdk } from '../../telemetry/trace-sdk.js';
import { logFormat, redactKeyFile, runObserved } from '../command-log.js';
import { printJsonLine, say, sayError } from '../output.js';
import { durationMs, portNumber, wholeNumber } from '../option-parsers.js';
import { announcePass, announcePassFailed } from '../reverify-output.js';
import { type GlobalOptions, withCredport } from '../run-action.js';

interface WorkerOptions extends GlobalOptions {
  concurrency?: number;
  reverifyEvery?: number;
  /** false with --no-webhooks. */
  webhooks?: boolean;
  grace?: number;
  metricsPort?: number;
  spread?: boolean;
  logFormat?: LogFormat;
  /** The trace SDK when traces are exported: flushed before any process.exit below. */
  traces?: TraceSdk;
}

const DEFAULT_GRACE_MS = 30_000;

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('take syncs from the queue (CREDPORT_QUEUE) and run them, on this machine, until stopped')
    .option('--concurrency <n>', 'syncs run at once by this worker (default 1)', wholeNumber('concurrency'))
    .option(
      '--json',
      'one JSON line a job (started, finished, failed, returned: put back on the queue) and a server lost or back (connection)',
    )
    .option(
      '--log-format <format>',
      'text (default: the lines it prints today) or json: one JSON log line per event and per job (pino), secrets ' +
        'redacted; see docs/operations/logs.md',
      logFormat,
    )
    .option('--no-webhooks', 'do not deliver webhook events from this process (another serve or worker on the store does)')
    .option(
      '--reverify-every <duration>',
      're-verify every credential not verified within this long, now and then at this interval (30m, 24h)',
      durationMs('reverify-every'),
    )
    .option(
      '--spread',
      "spread each credential's requests across its provider's rate-limit window instead of spending the window at once " +
        '(for hundreds of syncs in one worker: no burst each time their windows open; a short sync takes longer)',
    )
    .option(
      '--grace <duration>',
      'on SIGTERM or Ctrl-C, how long running syncs get to reach a checkpoint and go back on the queue before the worker exits ' +
        'anyway (default 30s)',
      durationMs('grace'),
    )
    .option(
      '--metrics-port <n>',
      'answer /metrics, /healthz and /readyz without auth on 127.0.0.1 at this port (0: a free one)',
      portNumber('metrics-port'),
    )
    .addHelpText(
      'after',
      `
Every worker needs the same CREDPORT_QUEUE, CREDPORT_STORE and CREDPORT_MASTER_KEY as the machines that
enqueue (credport sync, the API); CREDPORT_REDIS shares each credential's rate limit between them.

SIGTERM or Ctrl-C: running syncs stop after their current page's checkpoint and go back on the queue,
where another worker resumes them; after --grace the worker exits anyway (exit 5 if a job could not be
handed back: it moves on when its lock runs out). A second signal exits at once. A worker killed outright
loses its jobs to another worker once their lock runs out (CREDPORT_QUEUE_LOCK_MS, default 30000).

Servers away: a sync that fails because the store or the queue is unreachable goes back on the queue and
is tried again, 5 s, 10 s, 20 s ... then every minute, for CREDPORT_RETRY_FOR (default 15m); only then it
fails (credport sync --retry-failed puts it back). A worker that loses Redis says so, reconnects by itself,
and takes jobs again when Redis is back; if Redis stays away longer than CREDPORT_RETRY_FOR the worker
exits with code 5 for its supervisor to start it again.`,
    )
    .action(async (_o: unknown, command: Command) => {
      const options = command.optsWithGlobals<WorkerOptions>();
      // Traces are sent once the worker has handed its jobs back (and before any process.exit in work).
      await runObserved(options, 'credport-worker', (traces) => {
        if (traces) options.traces = traces;
        return work(options);
      });
    });
}

async function work(options: WorkerOptions): Promise<void> {
  const log = options.log;
  const url = process.env.CREDPORT_QUEUE?.trim();
  if (!url) throw new InputError('credport worker needs a queue: set CREDPORT_QUEUE=redis://host:6379', { field: 'CREDPORT_QUEUE' });
  const lockMs = process.env.CREDPORT_QUEUE_LOCK_MS ? Number(process.env.CREDPORT_QUEUE_LOCK_MS) : undefined;
  if (lockMs !== undefined && (!Number.isInteger(lockMs) || lockMs < 500))
    throw new InputError('CREDPORT_QUEUE_LOCK_MS must be a whole number of milliseconds, 500 or more', {
      field: 'CREDPORT_QUEUE_LOCK_MS',
    });
  // Loaded here, as the store and the queue are: --help reads no settings.
  const retryForMs = (await import('../../settings.js')).retryForMsFromEnv(process.env);
  const json = options.json === true;
  // Watching from before the first connect: a server lost while the store opens counts too.
  let lost: (state: ServerState) => void = () => undefined;
  let lostServer: ServerState | undefined;
  const watch = watchRedisConnections({
    giveUpAfterMs: retryForMs,
    onChange: (state) => announceConnection(state, json, log),
    onLost: (state) => lost(state),
  });
  try {
    await withCredport(options, async (credport) => {
      await redactKeyFile(log, credport.location.keyFile);
      // Loaded here: BullMQ is for workers and the queue, not every command.
      const { startSyncWorker } = await import('../../queue/sync-queue.js');
      if (options.spread) (await import('../../http/rate-gate.js')).spreadRequests(true);
      const concurrency = options.concurrency ?? 1;
      const worker = await startSyncWorker(url, credport, {
        concurrency,
        retryForMs,
        ...(lockMs !== undefined ? { lockMs } : {}),
        onJob: (report) => announceJob(report, json, log),
      }).catch((error: unknown) => Promise.reject(queueUnusable(url, error)));
      // Counting from before the first job: the worker's metrics port, when asked for.
      const probes =
        options.metricsPort === undefined
          ? undefined
          : await startProbes(credport, url, options.metricsPort).catch(async (error: unknown) => {
              await worker.stop().catch(() => undefined);
              throw error;
            });
      const ready = { event: 'ready', concurrency, queue: redactUri(url), pid: process.pid, ...(probes ? { metricsUrl: probes.url } : {}) };
      const readyText = `worker ${process.pid} ready: ${concurrency} sync${concurrency === 1 ? '' : 's'} at a time from ${redactUri(url)}`;
      if (log) log.logger.info(ready, readyText);
      else if (json) process.stdout.write(`${JSON.stringify(ready)}\n`);
      else {
        say(readyText);
        if (probes) say(`metrics and health (no auth, this machine only): ${probes.url}/metrics`);
      }
      const schedule = options.reverifyEvery
        ? await credport.scheduleReverify(options.reverifyEvery, {
            onPass: (summary) => announcePass(summary, json, log),
            onError: (error) => announcePassFailed(error, json, log),
          })
        : undefined;
      // The outbox's events go out from every serve and worker on the store (leases share the work).
      const webhooks = options.webhooks === false ? undefined : credport.deliverWebhooks();
      const why = await new Promise<{ lost?: ServerState }>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve({}));
        lost = (state) => resolve({ lost: state });
      });
      // A second signal, or the grace running out, ends the process whatever its connections' state.
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(why.lost ? 5 : 130));
      const graceMs = options.grace ?? DEFAULT_GRACE_MS;
      const graceOver = new Promise<false>((resolve) => setTimeout(resolve, graceMs, false).unref());
      if (why.lost) {
        // Nothing can be handed back to a queue that is gone: the syncs stop at a checkpoint in the
        // store, and their jobs move on once their locks run out (if Redis kept them).
        lostServer = why.lost;
        void worker.stop().catch(() => undefined);
        await Promise.race([worker.syncsStopped(), graceOver]);
        throw lostServerError(why.lost, 'this worker');
      }
      const stopped = await Promise.race([
        (async () => {
          await schedule?.stop();
          await webhooks?.stop();
          await worker.stop();
          await probes?.close();
          return true;
        })(),
        graceOver,
      ]);
      if (!stopped) {
        const text =
          `credport worker: stopped waiting after ${graceMs / 1000} s: a running sync could not be handed back to the queue; ` +
          `it resumes at its checkpoint in another worker once its lock runs out`;
        if (log) log.logger.error({ event: 'grace_over', graceMs }, text);
        else sayError(text);
        await options.traces?.shutdown();
        process.exit(5);
      }
    });
  } finally {
    watch.stop();
  }
  // Its queue clients wait for a Redis that is gone, and would keep the process alive: the error is said, so end it.
  if (lostServer) {
    await options.traces?.shutdown();
    process.exit(process.exitCode ?? 5);
  }
}

function announceConnection(state: ServerState, json: boolean, log: JsonLog | undefined): void {
  const event = {
    event: 'connection',
    server: state.server,
    state: state.up ? 'up' : 'down',
    since: new Date(state.since).toISOString(),
    ...(state.error ? { error: state.error } : {}),
  };
  const text = state.up
    ? `${state.server} is back; taking jobs again`
    : `lost ${state.server}${state.error ? ` (${state.error})` : ''}; reconnecting`;
  if (log) return void log.logger[state.up ? 'info' : 'warn'](event, text);
  if (json) return printJsonLine(event);
  sayError(text);
}

// When each job this worker runs began here, for the duration its log line gives (jobs end in the process that started them).
const jobStarts = new Map<string, number>();

function announceJob(report: JobReport, json: boolean, log?: JsonLog): void {
  const event = {
    event: report.outcome,
    job: report.jobId,
    ...report.request,
    ...(report.summary ? { records: report.summary.records } : {}),
    ...(report.error ? { error: report.error } : {}),
    ...(report.retryInMs !== undefined ? { retryInMs: report.retryInMs } : {}),
    ...(report.lost ? { lost: true } : {}),
  };
  if (log) return logJob(report, event, log);
  if (json) return printJsonLine(event);
  const what = `${report.jobId} (${report.request.sourceId} -> ${report.request.destinationId})`;
  if (report.outcome === 'started') say(`${what}: started`);
  else if (report.outcome === 'finished') {
    say(
      `${what}: synced ${report.summary!.records} ` +
        `records${report.lost ? '; but the queue no longer holds this job (Redis restarted without persistence, or was flushed): whoever followed it was told it is lost' : ''}`,
    );
  } else if (report.outcome === 'returned')
    say(`${what}: back on the queue, tried again in ${Math.ceil((report.retryInMs ?? 0) / 1000)} s: ${report.error!.message}`);
  else say(`${what}: failed: ${report.error!.message}`);
}

/** The worker's metrics port: the process's metrics and its store, master key and Redis probes. */
async function startProbes(credport: Credport, queueUrl: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const { openProcessMetrics } = await import('../../metrics/process-metrics.js');
  const { startMetricsServer } = await import('../../metrics/metrics-server.js');
  const redisUrl = process.env.CREDPORT_REDIS?.trim();
  const probes = await openProcessMetrics(credport, { queueUrl, ...(redisUrl ? { redisUrl } : {}) });
  const server = await startMetricsServer(port, probes).catch(async (error: unknown) => {
    await probes.close();
    throw error;
  });
  return {
    url: server.url,
    async close() {
      await server.close();
      await probes.close();
    },
  };
}

/**
 * A job's log line: the --json event's fields (the job and sync ids among them), and the workspace,
 * the time it took in this worker and the sync's own time, pages and 429 waits when it finished.
 */
function logJob(report: JobReport, event: Record<string, unknown>, log: JsonLog): void {
  const now = performance.now();
  if (report.outcome === 'started') jobStarts.set(report.jobId, now);
  const started = jobStarts.get(report.jobId);
  if (report.outcome !== 'started') jobStarts.delete(report.jobId);
  const summary = report.summary;
  const fields = {
    ...event,
    ...(report.request.access ? { workspace: report.request.access.workspace } : {}),
    ...(started !== undefined && report.outcome !== 'started' ? { durationMs: Math.round(now - started) } : {}),
    ...(summary ? { syncMs: summary.ms, pages: summary.pages, rateLimited: summary.rateLimited } : {}),
  };
  const what = `job ${report.jobId} (${report.request.sourceId} -> ${report.request.destinationId})`;
  if (report.outcome === 'started') log.logger.info(fields, `${what}: started`);
  else if (report.outcome === 'finished') log.logger.info(fields, `${what}: synced ${summary?.records ?? 0} records`);
  else if (report.outcome === 'returned') log.logger.warn(fields, `${what}: back on the queue: ${report.error?.message ?? ''}`);
  else log.logger.error(fields, `${what}: failed: ${report.error?.message ?? ''}`);
}
