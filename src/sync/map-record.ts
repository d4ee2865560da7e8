import { getPointer } from '../registry/inline-refs.js';

/**
 * A destination's mapping, body pointer -> record pointer, applied over a copy of the record:
 * mapped values are set (creating objects and arrays on the way), top-level source fields moved away.
 */
export function mapRecord(record: unknown, mapping: Record<string, string> | undefined): unknown {
  if (!mapping || record === null || typeof record !== 'object' || Array.isArray(record)) return record;
  const body: Record<string, unknown> = { ...(record as Record<string, unknown>) };
  for (const [target, source] of Object.entries(mapping)) {
    const value = getPointer(record, source);
    const sourceTop = source.split('/')[1];
    if (sourceTop !== undefined && !Object.values(mapping).some((s) => s !== source && s.split('/')[1] === sourceTop)) delete body[unescape(sourceTop)];
    if (value !== undefined) setPointer(body, target, value);
  }
  return body;
}

function setPointer(document: Record<string, unknown>, pointer: string, value: unknown): void {
  const keys = pointer.split('/').slice(1).map(unescape);
  let current: Record<string, unknown> | unknown[] = document;
  keys.forEach((key, i) => {
    const last = i === keys.length - 1;
    const container = current as Record<string, unknown>;
    if (last) container[key] = value;
    else {
      if (container[key] === undefined || typeof container[key] !== 'object') container[key] = /^\d+$/.test(keys[i + 1]!) ? [] : {};
      current = container[key] as Record<string, unknown>;
    }
  });
}

function unescape(key: string): string {
  return key.replace(/~1/g, '/').replace(/~0/g, '~');
}
