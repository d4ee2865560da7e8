import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import type { JsonLog, LogFormat } from '../logging/json-log.js';
import { startTraceSdk, type TraceSdk } from '../telemetry/trace-sdk.js';
import { printable } from '../text/printable.js';
import { type GlobalOptions, runAction } from './run-action.js';

/** `--log-format text|json`. */
export function logFormat(value: string): LogFormat {
  if (value === 'text' || value === 'json') return value;
  throw new InputError(`--log-format is text or json, not "${printable(value, 40)}"`, { field: 'logFormat' });
}

/**
 * `--log-format json`: the process's JSON log, its redaction primed with the secrets the environment
 * gave it (more are added as they are read: the API token, the key file). Node's own warnings become
 * log lines too, so that every line on stdout and stderr is one JSON object. Undefined for text.
 */
export async function openCommandLog(format: LogFormat | undefined, env: NodeJS.ProcessEnv): Promise<JsonLog | undefined> {
  if (format !== 'json') return undefined;
  // Loaded only here: pino is for json logs, not every command's start-up.
  const [{ createJsonLog }, { redactionFromEnv }] = await Promise.all([
    import('../logging/json-log.js'),
    import('../logging/log-redaction.js'),
  ]);
  const log = createJsonLog(redactionFromEnv(env));
  // Node prints a warning as text on stderr by default (its listener): replaced by a log line.
  process.removeAllListeners('warning');
  process.on('warning', (warning) =>
    log.logger.warn({ warning: { type: warning.name, code: (warning as { code?: string }).code } }, warning.message),
  );
  return log;
}

/** The master key file's key (when the key is not in CREDPORT_MASTER_KEY): a secret for the log's redaction too. */
export async function redactKeyFile(log: JsonLog | undefined, keyFile: string): Promise<void> {
  if (!log) return;
  const text = await readFile(keyFile, 'utf8').catch(() => '');
  log.redaction.add(...text.split('\n'));
}

/**
 * A long-running command (serve, worker): its JSON log when asked for, its traces when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (sent once `run` has ended), and under a JSON log a refused
 * option is a log line too (runAction); as text, a failure goes to main's handler as before.
 */
export async function runObserved<O extends GlobalOptions & { logFormat?: LogFormat }>(
  options: O,
  service: string,
  run: (traces: TraceSdk | undefined) => Promise<void>,
): Promise<void> {
  options.log = await openCommandLog(options.logFormat, process.env);
  const traces = await startTraceSdk(process.env, service);
  try {
    if (options.log) await runAction(options, () => run(traces));
    else await run(traces);
  } finally {
    await traces?.shutdown();
  }
}
