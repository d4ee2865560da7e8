import { InputError } from '../errors.js';

/**
 * When a failed delivery is tried again: after each failure, the next wait in this list, give or take
 * a fifth (jitter, so receivers that failed together are not hit together again). Eleven retries
 * spread over 31.7 hours (at least 25 with the jitter): a receiver down for a night and a day still
 * gets everything. The list's end is the end: the delivery is marked failed and its endpoint disabled.
 */
export const RETRY_DELAYS_MS: readonly number[] = [
  5_000, // 5 s
  30_000, // 30 s
  2 * 60_000, // 2 min
  10 * 60_000, // 10 min
  30 * 60_000, // 30 min
  60 * 60_000, // 1 h
  2 * 60 * 60_000, // 2 h
  4 * 60 * 60_000, // 4 h
  8 * 60 * 60_000, // 8 h
  8 * 60 * 60_000, // 8 h
  8 * 60 * 60_000, // 8 h
];

/** The jitter: each wait is drawn from [1 - JITTER, 1 + JITTER] times its step. */
export const JITTER = 0.2;

/**
 * The wait before the next attempt after `failures` failed ones (1: the first failed), or undefined
 * when the schedule is spent. `random` in [0, 1).
 */
export function nextRetryDelay(
  failures: number,
  delays: readonly number[] = RETRY_DELAYS_MS,
  random: () => number = Math.random,
): number | undefined {
  const step = delays[failures - 1];
  if (step === undefined) return undefined;
  return Math.round(step * (1 - JITTER + 2 * JITTER * random()));
}

/**
 * CREDPORT_WEBHOOK_RETRY_MS: the schedule as comma-separated milliseconds (tests, a rehearsal of an
 * outage); unset, the default. A malformed list is refused naming the variable.
 */
export function retryDelaysFromEnv(env: NodeJS.ProcessEnv): readonly number[] | undefined {
  const raw = env.CREDPORT_WEBHOOK_RETRY_MS?.trim();
  if (raw === undefined || raw === '') return undefined;
  const parts = raw.split(',').map((part) => part.trim());
  const delays = parts.map(Number);
  // Digits only: Number('') is 0, and an empty step (1,,2) is a typo, not a retry at once.
  if (parts.some((part) => !/^\d+$/.test(part)) || delays.some((d) => d > 7 * 24 * 60 * 60_000))
    throw new InputError(
      `CREDPORT_WEBHOOK_RETRY_MS must be comma-separated whole milliseconds (0 to a week each), like 5000,30000; got "${raw.slice(0, 80)}"`,
      { field: 'CREDPORT_WEBHOOK_RETRY_MS' },
    );
  return delays;
}
