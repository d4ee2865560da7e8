import pLimit from 'p-limit';
import { CredportError, ProviderRejectedError } from '../errors.js';
import type { CredentialTile } from '../generated/credential-tile.js';
import type { SharedWindows } from '../http/shared-window.js';
import { RateGate } from '../http/rate-gate.js';
import type { CredentialService } from './credential-service.js';

export interface ReverifyOptions {
  /** Re-test credentials not verified within this long (never verified ones too). */
  olderThanMs: number;
  connector?: string;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Each provider origin's budget shared with other processes (CREDPORT_REDIS). */
  sharedWindows?: SharedWindows;
  onResult?: (result: ReverifyResult, done: number, total: number) => void;
  signal?: AbortSignal;
  now?: () => Date;
}

export interface ReverifyResult {
  id: string;
  connector: string;
  /** verified; refused: marked invalid with the provider's words; unavailable: nothing changed; failed: another error (named). */
  outcome: 'verified' | 'refused' | 'unavailable' | 'failed';
  message?: string;
}

export interface ReverifySummary {
  checked: number;
  verified: number;
  refused: number;
  unavailable: number;
  failed: number;
  /** Credentials not due (verified within the time, or invalid: they wait for a rotation). */
  skipped: number;
  results: ReverifyResult[];
  ms: number;
}

const DEFAULT_CONCURRENCY = 4;

/** Due for a check: not verified within the time. An invalid tile waits for a rotation, not another refusal. */
export function isStale(tile: CredentialTile, olderThanMs: number, now: Date): boolean {
  if (tile.status === 'invalid') return false;
  return tile.verifiedAt === undefined || now.getTime() - Date.parse(tile.verifiedAt) >= olderThanMs;
}

/**
 * Re-tests every stale credential, a few at a time. A provider often limits per account or per
 * client rather than per token, so all requests to one origin pass one gate: its x-ratelimit
 * headers and 429s pace the whole pass (and, with Redis, every process's pass).
 */
export async function reverifyStale(credentials: CredentialService, options: ReverifyOptions): Promise<ReverifySummary> {
  const started = performance.now();
  const now = options.now?.() ?? new Date();
  const tiles = await credentials.list(options.connector !== undefined ? { connector: options.connector } : {});
  const due = tiles.filter((tile) => isStale(tile, options.olderThanMs, now));
  const gates = new Map<string, RateGate>();
  const gateOf = (tile: CredentialTile) => {
    const key = `verify:${tile.baseUrl ?? tile.connector}`;
    let gate = gates.get(key);
    if (!gate) {
      gate = new RateGate();
      if (options.sharedWindows) gate.share(options.sharedWindows.for(key));
      gates.set(key, gate);
    }
    return gate;
  };
  const limit = pLimit(Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY));
  const results: ReverifyResult[] = [];
  await Promise.all(
    due.map((tile) =>
      limit(async () => {
        if (options.signal?.aborted) return;
        const result = await check(credentials, tile, gateOf(tile));
        results.push(result);
        options.onResult?.(result, results.length, due.length);
      }),
    ),
  );
  const count = (outcome: ReverifyResult['outcome']) => results.filter((r) => r.outcome === outcome).length;
  return {
    checked: results.length,
    verified: count('verified'),
    refused: count('refused'),
    unavailable: count('unavailable'),
    failed: count('failed'),
    skipped: tiles.length - due.length,
    results,
    ms: Math.round(performance.now() - started),
  };
}

async function check(credentials: CredentialService, tile: CredentialTile, gate: RateGate): Promise<ReverifyResult> {
  try {
    // Through test(): a refusal sends credential.invalidated (cause reverify), a success credential.verified.
    await credentials.test(tile.id, { gate, cause: 'reverify' });
    return { id: tile.id, connector: tile.connector, outcome: 'verified' };
  } catch (error) {
    if (error instanceof ProviderRejectedError)
      return { id: tile.id, connector: tile.connector, outcome: 'refused', message: error.message };
    if (error instanceof CredportError && error.exitCode === 4)
      return { id: tile.id, connector: tile.connector, outcome: 'unavailable', message: error.message };
    // A credential deleted meanwhile, a damaged record: named, and the pass goes on.
    if (error instanceof CredportError) return { id: tile.id, connector: tile.connector, outcome: 'failed', message: error.message };
    throw error;
  }
}
