import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { printable } from '../text/printable.js';
import { DURATION_WORDS, INSTANT_WORDS, readDuration, readInstant } from '../text/read-time.js';

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

/** `--metrics-port 9464` -> 9464: a port number (0: a free one). */
export function portNumber(name: string): (value: string) => number {
  return (value) => {
    const port = wholeNumber(name)(value);
    if (port > 65535) throw new InputError(`--${name} must be a port number (0 to 65535), not ${port}`, { field: name });
    return port;
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

/** `--reverify-every 30m`, `--grace 45s` -> milliseconds (read-time.ts: the API reads the same). */
export function durationMs(name: string): (value: string) => number {
  return (value) => {
    const ms = readDuration(value);
    if (ms === undefined) throw new InputError(`--${name} must be ${DURATION_WORDS}, not "${printable(value, 40)}"`, { field: name });
    return ms;
  };
}

/** `--stale 24h`, or `--stale 2026-11-01` (not verified since then) -> milliseconds before now. */
export function ageMs(name: string, now: () => Date = () => new Date()): (value: string) => number {
  return (value) => {
    const at = now();
    const ms = readDuration(value) ?? at.getTime() - (readInstant(value, at)?.getTime() ?? Number.NaN);
    if (!(ms > 0)) throw new InputError(`--${name} must be ${INSTANT_WORDS} in the past, not "${printable(value, 40)}"`, { field: name });
    return ms;
  };
}

/** `--since 24h` (that long before now) or a date/time (2026-11-01, 2026-11-01T09:00:00Z) -> that instant. */
export function sinceTime(now: () => Date = () => new Date()): (value: string) => Date {
  return (value) => {
    const at = readInstant(value, now());
    if (!at) throw new InputError(`--since must be ${INSTANT_WORDS}, not "${printable(value, 40)}"`, { field: 'since' });
    return at;
  };
}
