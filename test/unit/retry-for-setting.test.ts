import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../src/errors.js';
import { DEFAULT_RETRY_FOR_MS, retryForMsFromEnv } from '../../src/settings.js';

describe('CREDPORT_RETRY_FOR', () => {
  it('is 15 minutes unless set (blank counts as unset)', () => {
    expect(DEFAULT_RETRY_FOR_MS).toBe(15 * 60_000);
    expect(retryForMsFromEnv({})).toBe(DEFAULT_RETRY_FOR_MS);
    expect(retryForMsFromEnv({ CREDPORT_RETRY_FOR: '  ' })).toBe(DEFAULT_RETRY_FOR_MS);
  });

  it('reads a duration in milliseconds, seconds, minutes, hours or days (as the CLI and the API read one)', () => {
    expect(retryForMsFromEnv({ CREDPORT_RETRY_FOR: '1500ms' })).toBe(1_500);
    expect(retryForMsFromEnv({ CREDPORT_RETRY_FOR: '90s' })).toBe(90_000);
    expect(retryForMsFromEnv({ CREDPORT_RETRY_FOR: ' 15m ' })).toBe(900_000);
    expect(retryForMsFromEnv({ CREDPORT_RETRY_FOR: '2h' })).toBe(7_200_000);
    expect(retryForMsFromEnv({ CREDPORT_RETRY_FOR: '2d' })).toBe(2 * 86_400_000);
    expect(retryForMsFromEnv({ CREDPORT_RETRY_FOR: '1s' })).toBe(1_000); // the least
  });

  it('refuses anything else, naming the variable and quoting the value terminal-safe', () => {
    for (const value of ['15', '15 m', '1.5h', '999ms', '0s', '-1m', '2026-11-01', 'soon', '12345678s']) {
      let thrown: unknown;
      try {
        retryForMsFromEnv({ CREDPORT_RETRY_FOR: value });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InputError);
      expect(thrown).toMatchObject({
        field: 'CREDPORT_RETRY_FOR',
        message: `CREDPORT_RETRY_FOR must be a duration of a second or more such as 90s, 15m or 2h, not "${value}"`,
      });
    }
    expect(() => retryForMsFromEnv({ CREDPORT_RETRY_FOR: '\u001b[31m5m' })).toThrow(/not "\\u001b\[31m5m"|not "[^\u001b]*5m"/);
  });
});
