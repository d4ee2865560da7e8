import { describe, expect, it } from '@jest/globals';
import { JITTER, nextRetryDelay, RETRY_DELAYS_MS, retryDelaysFromEnv } from '../../src/webhooks/retry-schedule.js';

// The documented schedule (docs/webhooks.md): eleven retries, growing, with a fifth of jitter either
// way, spanning more than a day even when every draw is the shortest.

const HOUR = 60 * 60 * 1000;

describe('the webhook retry schedule', () => {
  it('retries for more than a day at the least, and stops after the last step', () => {
    const shortest = RETRY_DELAYS_MS.reduce((sum, _step, i) => sum + (nextRetryDelay(i + 1, RETRY_DELAYS_MS, () => 0) ?? 0), 0);
    expect(shortest).toBeGreaterThan(24 * HOUR);
    expect(RETRY_DELAYS_MS.reduce((a, b) => a + b, 0)).toBeLessThan(32 * HOUR);
    expect(nextRetryDelay(RETRY_DELAYS_MS.length + 1)).toBeUndefined();
    expect(RETRY_DELAYS_MS).toHaveLength(11);
  });

  it('grows, and draws each wait within a fifth of its step either way', () => {
    for (let i = 1; i < RETRY_DELAYS_MS.length; i++) expect(RETRY_DELAYS_MS[i]).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[i - 1]!);
    expect(nextRetryDelay(1, [10_000], () => 0)).toBe(10_000 * (1 - JITTER));
    expect(nextRetryDelay(1, [10_000], () => 0.5)).toBe(10_000);
    expect(nextRetryDelay(1, [10_000], () => 0.999999)).toBe(Math.round(10_000 * (1 + JITTER * 0.999998)));
    expect(nextRetryDelay(2, [10_000, 20_000], () => 0.5)).toBe(20_000);
    expect(JITTER).toBe(0.2);
  });

  it('reads CREDPORT_WEBHOOK_RETRY_MS, and refuses a malformed one by its name', () => {
    expect(retryDelaysFromEnv({})).toBeUndefined();
    expect(retryDelaysFromEnv({ CREDPORT_WEBHOOK_RETRY_MS: ' ' })).toBeUndefined();
    expect(retryDelaysFromEnv({ CREDPORT_WEBHOOK_RETRY_MS: '0, 1000,5000' })).toEqual([0, 1000, 5000]);
    for (const bad of ['1s', '-1', '1.5', '1,,2', String(8 * 24 * HOUR)])
      expect(() => retryDelaysFromEnv({ CREDPORT_WEBHOOK_RETRY_MS: bad })).toThrow(
        expect.objectContaining({ field: 'CREDPORT_WEBHOOK_RETRY_MS' }),
      );
  });
});
