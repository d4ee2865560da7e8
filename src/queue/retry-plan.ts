import type { ErrorDetails } from '../errors.js';
import { ExitCode } from '../errors.js';

/** What a job has been through: kept in its data, so any worker that takes it next knows. */
export interface RetryHistory {
  /** When the store or the queue first failed it, in the outage going on (ms since the epoch). */
  outageSince?: number;
  /** Tries failed by that outage so far. */
  outages?: number;
  /** Tries failed for another passing reason (a destination busy, a provider away). */
  others?: number;
}

export type RetryDecision = { again: true; delayMs: number; history: RetryHistory } | { again: false; details: ErrorDetails };

/** Servers of the fleet away: worth waiting out for as long as the operator says (CREDPORT_RETRY_FOR). */
const OUTAGES = new Set(['store_unavailable', 'queue_unavailable']);
/** Passing, but not worth more than a few tries: a destination another sync holds, a lost race. */
const PASSING = new Set(['destination_busy', 'write_conflict', 'lease_lost']);
/** Tries for the passing reasons: 5, 10, 20, 40 s between them outlast a default 30 s lease left by a worker that died. */
export const OTHER_TRIES = 5;
const FIRST_DELAY_MS = 5_000;
/** An outage is looked at again at least this often once the backoff has grown: a server back is noticed within a minute. */
export const MAX_OUTAGE_DELAY_MS = 60_000;

/**
 * Whether a failed try goes back on the queue, and when. Outages back off exponentially up to a
 * minute and are tried again until they have lasted `retryForMs`; other passing failures get
 * OTHER_TRIES tries; anything else (bad input, a refused credential, a refused origin, a cancel) fails at once.
 */
export function nextTry(details: ErrorDetails, history: RetryHistory, retryForMs: number, now = Date.now()): RetryDecision {
  if (OUTAGES.has(details.code)) {
    const since = history.outageSince ?? now;
    const outages = (history.outages ?? 0) + 1;
    if (now - since >= retryForMs) {
      return {
        again: false,
        details: {
          ...details,
          message:
            `${details.message}; tried again for ${describeMs(now - since)} (CREDPORT_RETRY_FOR is ` +
            `${describeMs(retryForMs)}): once it is back, run credport sync --retry-failed`,
        },
      };
    }
    const delayMs = Math.min(FIRST_DELAY_MS * 2 ** (outages - 1), MAX_OUTAGE_DELAY_MS, Math.max(1, since + retryForMs - now));
    return { again: true, delayMs, history: { ...history, outageSince: since, outages } };
  }
  const providerAway = details.exitCode === ExitCode.providerUnavailable && details.code !== 'origin_refused';
  if (!PASSING.has(details.code) && !providerAway) return { again: false, details };
  const others = (history.others ?? 0) + 1;
  if (others >= OTHER_TRIES) return { again: false, details };
  // A passing failure ends an outage: the next one is timed from its own start.
  return { again: true, delayMs: FIRST_DELAY_MS * 2 ** (others - 1), history: { others } };
}

function describeMs(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 60_000) return `${Math.round(ms / 6_000) / 10} min`;
  return `${Math.round(ms / 100) / 10} s`;
}
