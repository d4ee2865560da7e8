import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { printable } from '../text/printable.js';

/** `--streams a,b` -> ['a', 'b'] */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `--concurrency 4` -> 4; anything but digits is refused by the option's name (the range is the service's to check). */
export function wholeNumber(name: string): (value: string) => number {
  return (value) => {
    if (!/^\d{1,6}$/.test(value.trim()))
      throw new InputError(`--${name} must be a whole number, not "${printable(value, 40)}"`, { field: name });
    return Number.parseInt(value, 10);
  };
}

/** `a=b,c=d` (repeatable) -> { a: 'b', c: 'd' } */
export function keyValues(value: string, previous: Record<string, string> = {}): Record<string, string> {
  // No prototype: `out["__proto__"] = v` must make a key the library can refuse by name, not a prototype.
  const out = Object.assign(Object.create(null) as Record<string, string>, previous);
  for (const pair of commaList(value)) {
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1) throw new InputError(`"${printable(pair)}" is not name=value`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

/** A --map file: {"<stream>": {"/body/field": "/record/field"}}. */
export async function readMapping(file: string): Promise<Record<string, Record<string, string>>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InputError(`--map ${printable(file, 120)} cannot be read as JSON (${(error as NodeJS.ErrnoException).code ?? 'not JSON'})`, {
      field: 'map',
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InputError('--map must hold a JSON object of streams', { field: 'map' });
  return parsed as Record<string, Record<string, string>>;
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--stale 24h`, `--reverify-every 30m` -> milliseconds (s, m, h or d). */
export function durationMs(name: string): (value: string) => number {
  return (value) => {
    const match = /^(\d{1,6})([smhd])$/.exec(value.trim());
    if (!match || Number(match[1]) === 0)
      throw new InputError(`--${name} must be a duration such as 30m, 24h or 7d, not "${printable(value, 40)}"`, { field: name });
    return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  };
}

/** `--since 24h` (m, h or d before now) or a date/time (2026-11-01, 2026-11-01T09:00:00Z) -> that instant. */
export function sinceTime(now: () => Date = () => new Date()): (value: string) => Date {
  return (value) => {
    const text = value.trim();
    const ago = /^(\d{1,6})([mhd])$/.exec(text);
    if (ago) return new Date(now().getTime() - Number(ago[1]) * UNIT_MS[ago[2] as 'm' | 'h' | 'd']);
    const at = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(text) ? new Date(text) : undefined;
    if (!at || Number.isNaN(at.getTime()))
      throw new InputError(
        `--since must be a time ago (30m, 24h, 7d) or a date (2026-11-01, 2026-11-01T09:00:00Z), not "${printable(value, 40)}"`,
        { field: 'since' },
      );
    return at;
  };
}
