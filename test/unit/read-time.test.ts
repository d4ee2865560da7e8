import { describe, expect, it } from '@jest/globals';
import { ageMs, durationMs, sinceTime } from '../../src/cli/option-parsers.js';
import { InputError } from '../../src/errors.js';
import { readDuration, readInstant } from '../../src/text/read-time.js';

const now = new Date('2026-11-10T12:00:00Z');

describe('readDuration: one meaning of 45s, 30m, 24h and 7d', () => {
  it('reads seconds, minutes, hours, days (and milliseconds)', () => {
    expect(readDuration('45s')).toBe(45_000);
    expect(readDuration('90s')).toBe(90_000);
    expect(readDuration(' 30m ')).toBe(1_800_000);
    expect(readDuration('24h')).toBe(86_400_000);
    expect(readDuration('7d')).toBe(7 * 86_400_000);
    expect(readDuration('1500ms')).toBe(1_500);
  });

  it('refuses nothing at all, fractions, signs, spaces inside, other units and dates', () => {
    for (const text of ['0s', '0d', '1.5h', '-1m', '15 m', '15', '3w', 'soon', '', '2026-11-01', '12345678s'])
      expect(readDuration(text)).toBeUndefined();
  });
});

describe('readInstant: a time ago, a date or a date-time', () => {
  it('reads a duration as that long before now', () => {
    expect(readInstant('45s', now)?.toISOString()).toBe('2026-11-10T11:59:15.000Z');
    expect(readInstant('7d', now)?.toISOString()).toBe('2026-11-03T12:00:00.000Z');
  });

  it('reads a date and a date-time', () => {
    expect(readInstant('2026-11-01', now)?.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(readInstant('2026-11-01T09:30:00Z', now)?.toISOString()).toBe('2026-11-01T09:30:00.000Z');
    expect(readInstant('2026-11-01T09:30:00.123+02:00', now)?.toISOString()).toBe('2026-11-01T07:30:00.123Z');
  });

  it('refuses a day that is not on the calendar, and anything else', () => {
    for (const text of ['2026-02-30', '2026-13-01', '2026-11-01T25:00:00Z', 'yesterday', '11/01/2026', '0s'])
      expect(readInstant(text, now)).toBeUndefined();
  });
});

describe('the CLI options read through it', () => {
  it('--reverify-every and --grace take 45s and refuse a date, naming the option', () => {
    expect(durationMs('grace')('45s')).toBe(45_000);
    expect(() => durationMs('grace')('2026-11-01')).toThrow(
      new InputError('--grace must be a duration such as 45s, 30m, 24h or 7d, not "2026-11-01"'),
    );
  });

  it('--stale takes 90s, 0-free durations, or a date in the past (not verified since then)', () => {
    expect(ageMs('stale', () => now)('90s')).toBe(90_000);
    expect(ageMs('stale', () => now)('2026-11-09T12:00:00Z')).toBe(86_400_000);
    expect(() => ageMs('stale', () => now)('0s')).toThrow(/--stale must be a time ago \(45s, 30m, 24h, 7d\)/);
    expect(() => ageMs('stale', () => now)('2027-01-01')).toThrow(/in the past/);
  });

  it('--since takes 45s, a date or a date-time', () => {
    expect(sinceTime(() => now)('45s').toISOString()).toBe('2026-11-10T11:59:15.000Z');
    expect(sinceTime(() => now)('2026-11-01').toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(() => sinceTime(() => now)('last week')).toThrow(/--since must be a time ago \(45s, 30m, 24h, 7d\), a date/);
  });
});
