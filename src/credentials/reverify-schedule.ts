import { EVERY_WORKSPACE, withAccess } from '../access/access.js';
import { withActor } from '../audit/audit-log.js';
import { type ReverifyOptions, type ReverifySummary, reverifyStale } from './reverify.js';
import type { CredentialService } from './credential-service.js';

const SCHEDULER = 'scheduler:reverify';

export interface ReverifySchedule {
  /** Stops the schedule; a pass under way stops before its next request. */
  stop(): Promise<void>;
}

/**
 * Re-verifies stale credentials now and then every `everyMs` (a credential is stale when not
 * verified within `everyMs`), one pass at a time, so a revoked token shows on its tile before a
 * sync trips over it. Each process that runs it (serve, worker) runs its own passes; a credential
 * one of them verified is no longer stale for the others.
 */
export function scheduleReverify(
  credentials: CredentialService,
  everyMs: number,
  options: Omit<ReverifyOptions, 'olderThanMs' | 'signal'> & {
    onPass?: (summary: ReverifySummary) => void;
    onError?: (error: unknown) => void;
  } = {},
): ReverifySchedule {
  const stop = new AbortController();
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const pass = () => {
    // The audit trail names the schedule, not whoever started the process.
    // Every workspace's credentials, as the scheduler, whoever started the process.
    running = withActor(SCHEDULER, () =>
      withAccess({ workspace: EVERY_WORKSPACE, role: 'editor' }, () =>
        reverifyStale(credentials, { ...options, olderThanMs: everyMs, signal: stop.signal }),
      ),
    )
      .then(
        (summary) => options.onPass?.(summary),
        (error: unknown) => options.onError?.(error),
      )
      .finally(() => {
        if (!stop.signal.aborted) timer = setTimeout(pass, everyMs).unref();
      });
  };
  pass();
  return {
    async stop() {
      stop.abort();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
