// RFC 6901 JSON pointers, the one place credport reads or writes through them: a destination's
// mapping, a manifest's record selector and identity pointers, a template's {/body/field}.
// A pointer's segments become property keys, so a caller's pointer could otherwise reach
// Object.prototype (`/__proto__/baseUrl`, `/constructor/prototype/x`) and change every object in
// the process. Such segments are refused here, whatever their position, by reader and writer alike.

/** Keys that are slots of every object's prototype chain: never a segment, a stream or a parameter name. */
export const PROTOTYPE_KEYS: readonly string[] = Object.freeze(['__proto__', 'constructor', 'prototype']);

/** False for a key that would name a member of the prototype chain instead of the object's own data. */
export function isSafeKey(key: string): boolean {
  return !PROTOTYPE_KEYS.includes(key);
}

/** A pointer that is malformed or names a prototype slot. */
export class PointerError extends Error {
  constructor(
    message: string,
    readonly pointer: string,
  ) {
    super(message);
    this.name = 'PointerError';
  }
}

/** The text of a segment inside a pointer: "~" and "/" escaped, in that order. */
export function escapeSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A segment's key: "~1" first, then "~0", so "~01" stays the key "~1" (RFC 6901, section 4). */
export function unescapeSegment(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Keys to a pointer. */
export function formatPointer(keys: readonly string[]): string {
  return keys.map((key) => `/${escapeSegment(key)}`).join('');
}

/**
 * Why a pointer is refused, or undefined when it is a well-formed pointer whose every segment is
 * safe. The check is on the unescaped keys, so no spelling of a prototype slot gets through.
 */
export function checkPointer(pointer: string): string | undefined {
  if (typeof pointer !== 'string') return 'a JSON pointer must be text';
  if (pointer !== '' && !pointer.startsWith('/')) return 'a JSON pointer starts with "/" (e.g. /name)';
  if (/~(?![01])/.test(pointer)) return 'a "~" in a JSON pointer must be written ~0 (and "/" inside a name ~1)';
  const bad = pointer
    .split('/')
    .slice(1)
    .map(unescapeSegment)
    .find((key) => !isSafeKey(key));
  if (bad !== undefined) return `"${bad}" cannot be a segment of a JSON pointer (it names a member of every object's prototype)`;
  return undefined;
}

/** The keys of a pointer; throws a PointerError for a malformed pointer or a prototype slot. */
export function parsePointer(pointer: string): string[] {
  const problem = checkPointer(pointer);
  if (problem !== undefined) throw new PointerError(problem, pointer);
  return pointer === '' ? [] : pointer.split('/').slice(1).map(unescapeSegment);
}

type Container = Record<string, unknown>;

function isContainer(value: unknown): value is Container {
  return value !== null && typeof value === 'object';
}

/** The value a pointer names, or undefined when any step is missing. Own properties only: nothing inherited is ever read. */
export function getPointer(document: unknown, pointer: string): unknown {
  let current: unknown = document;
  for (const key of parsePointer(pointer)) {
    if (!isContainer(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

/**
 * Sets the value a pointer names, creating what is missing on the way: an array where the next key
 * is a whole number, else an object with no prototype. It walks own properties only, and defines
 * the last key as an own property, so neither a hostile key nor an inherited one is ever followed.
 */
export function setPointer(document: Container, pointer: string, value: unknown): void {
  const keys = parsePointer(pointer);
  if (keys.length === 0) throw new PointerError('the whole document cannot be replaced through a JSON pointer', pointer);
  let current: Container = document;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) {
      Object.defineProperty(current, key, { value, writable: true, enumerable: true, configurable: true });
      return;
    }
    const existing = Object.hasOwn(current, key) ? current[key] : undefined;
    if (isContainer(existing)) current = existing;
    else {
      const made: Container = /^\d+$/.test(keys[i + 1]!) ? ([] as unknown as Container) : (Object.create(null) as Container);
      Object.defineProperty(current, key, { value: made, writable: true, enumerable: true, configurable: true });
      current = made;
    }
  });
}
