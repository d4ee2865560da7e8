// The one reading of durations and points in time, for the CLI's options (--stale, --since,
// --reverify-every, --grace), the environment (CREDPORT_RETRY_FOR) and the API's query parameters
// (GET /audit?since=): `45s` means the same wherever it is typed.

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A count and a unit: 250ms, 45s, 30m, 24h, 7d. */
export const DURATION_PATTERN = '^[0-9]{1,7}(ms|s|m|h|d)$';
/** A calendar date, or a date-time (seconds, fraction and offset optional; no offset is local time). */
export const DATE_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$';
/** What `readInstant` takes: a duration (that long ago), a date or a date-time. */
export const INSTANT_PATTERN = `${DURATION_PATTERN}|${DATE_PATTERN}`;

/** How the refusals say what is taken, in every place that takes one. */
export const DURATION_WORDS = 'a duration such as 45s, 30m, 24h or 7d';
export const INSTANT_WORDS = 'a time ago (45s, 30m, 24h, 7d), a date (2026-11-01) or a date-time (2026-11-01T09:00:00Z)';

/** `45s` -> 45000; undefined for anything else (zero included: a duration of nothing is a typo). */
export function readDuration(text: string): number | undefined {
  const match = new RegExp(DURATION_PATTERN).exec(text.trim());
  if (!match) return undefined;
  const ms = Number.parseInt(text.trim(), 10) * UNIT_MS[match[1] as keyof typeof UNIT_MS];
  return ms > 0 ? ms : undefined;
}

/** `24h` -> 24 hours before `now`; `2026-11-01` or a date-time -> that instant; undefined for anything else (2026-13-45 too). */
export function readInstant(text: string, now: Date = new Date()): Date | undefined {
  const ago = readDuration(text);
  if (ago !== undefined) return new Date(now.getTime() - ago);
  const trimmed = text.trim();
  if (!new RegExp(DATE_PATTERN).test(trimmed)) return undefined;
  const at = new Date(trimmed);
  // Date() rolls 2026-02-30 over into March: a day that is not on the calendar is refused instead.
  return Number.isNaN(at.getTime()) || !onTheCalendar(trimmed) ? undefined : at;
}

function onTheCalendar(text: string): boolean {
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const check = new Date(Date.UTC(year, month - 1, day));
  return check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day;
}
