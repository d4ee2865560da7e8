import type { SyncRate } from '../generated/sync-summary.js';
import type { RateGate } from '../http/rate-gate.js';

/**
 * The rate a run reached with one credential: requests through its gate since now, per minute, and
 * against the limit the provider announced (x-ratelimit-limit) over the manifest's window.
 *
 * `ofLimit` is counted per provider window: the run's requests over the limit of every window its
 * requests fell in. Requests per minute of the run's time over the limit a minute would read above
 * 1.0 with no 429 at all: fixed windows let a run spend a whole window in its first seconds and a
 * whole window again when it turns (four 60-request windows in 3.2 minutes read "1.258").
 */
export function rateMeter(gate: RateGate, windowMs: number | undefined): () => SyncRate | undefined {
  const from = gate.stats.requests;
  const started = gate.now();
  // The window open when the run starts counts once the run sends in it; later ones as answers name them.
  const windowsFrom = gate.stats.windows - (gate.inWindow() ? 1 : 0);
  return () => {
    const requests = gate.stats.requests - from;
    if (requests === 0) return undefined;
    const elapsed = Math.max(1, gate.now() - started);
    const perMinute = round((requests * 60_000) / elapsed);
    const announced = gate.stats.announcedLimit;
    if (announced === undefined || windowMs === undefined) return { requests, perMinute };
    const limitPerMinute = round((announced * 60_000) / windowMs);
    // A span of time meets at most ceil(span / window) + 1 fixed windows: more named ones are answers
    // whose reset we had to guess (no reset header), not windows the provider opened.
    const most = Math.ceil(elapsed / windowMs) + 1;
    const windows = Math.min(most, Math.max(1, gate.stats.windows - windowsFrom));
    return { requests, perMinute, limitPerMinute, ofLimit: Math.round((requests / (windows * announced)) * 1000) / 1000 };
  };
}

const round = (n: number) => Math.round(n * 10) / 10;
