import { userInfo } from 'node:os';
import { inspect } from 'node:util';
import { type Access, checkWorkspace, DEFAULT_WORKSPACE, withAccess } from '../access/access.js';
import { withActor } from '../audit/audit-log.js';
import { CredportError, ExitCode } from '../errors.js';
import type { Credport } from '../open-credport.js';
import type { JsonLog } from '../logging/json-log.js';
import { jsonText, safeLines } from './output.js';

export interface GlobalOptions {
  home?: string;
  store?: string;
  workspace?: string;
  debug?: boolean;
  json?: boolean;
  /** `serve` and `worker` with --log-format json: a failure is one log line (no text on stderr). */
  log?: JsonLog;
}

/**
 * Runs one command: maps every failure to one clear stderr line and its documented exit code
 * (and, with --json, an `{"error": ...}` object on stdout). No stack trace unless --debug.
 */
export async function runAction(options: GlobalOptions, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    report(error, options);
  }
}

export async function withCredport(options: GlobalOptions, action: (credport: Credport) => Promise<void>): Promise<void> {
  await runAction(options, async () => {
    // Loaded here, not at start-up: --help and the emulators need no store, registry or HTTP client.
    const { openCredport } = await import('../open-credport.js');
    const actor = `cli:${osUser()}`;
    // Whoever runs the CLI holds the store and its master key: an admin of the workspace it names.
    const access: Access = {
      workspace: checkWorkspace(options.workspace ?? (process.env.CREDPORT_WORKSPACE?.trim() || DEFAULT_WORKSPACE)),
      role: 'admin',
    };
    const credport = await openCredport({
      ...(options.home ? { home: options.home } : {}),
      ...(options.store ? { storeUri: options.store } : {}),
      actor,
      access,
    });
    try {
      // Also for what leaves this process: a sync put on the queue carries its actor and workspace to the worker.
      await withActor(actor, () => withAccess(access, () => action(credport)));
    } finally {
      await credport.close().catch(() => undefined);
    }
  });
}

function report(error: unknown, options: GlobalOptions): void {
  if (options.log) {
    const details =
      error instanceof CredportError ? error.toJSON() : { code: 'internal', message: 'internal error', exitCode: ExitCode.internal };
    options.log.logger.fatal({ error: details }, details.message);
    process.exitCode = details.exitCode;
    return;
  }
  if (error instanceof CredportError) {
    // A message may quote the store (a credential's name, the sources that use it): shown terminal-safe.
    process.stderr.write(`credport: ${safeLines(error.message)}\n`);
    if (options.json) process.stdout.write(`${jsonText({ error: error.toJSON() })}\n`);
    if (options.debug) process.stderr.write(`${error.stack ?? ''}\n`);
    process.exitCode = error.exitCode;
    return;
  }
  // Not one of ours: a bug. Its text may come from a library, so show it only on request.
  process.stderr.write(`credport: internal error${options.debug ? `: ${inspect(error)}` : ' (run again with --debug for details)'}\n`);
  if (options.json)
    process.stdout.write(`${JSON.stringify({ error: { code: 'internal', message: 'internal error', exitCode: ExitCode.internal } })}\n`);
  process.exitCode = ExitCode.internal;
}

/** The OS user running the CLI, for the audit trail (a container without a passwd entry: its uid). */
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? `uid ${process.getuid?.() ?? 'unknown'}`;
  }
}
