import { getPointer, parsePointer, setPointer } from '../text/json-pointer.js';

/**
 * A destination's mapping, body pointer -> record pointer, applied over a copy of the record:
 * mapped values are set (creating objects and arrays on the way), top-level source fields moved away.
 * The copy has no prototype and every pointer goes through json-pointer.ts, which refuses a
 * `__proto__`, `constructor` or `prototype` segment (throwing a PointerError): a mapping saved by an
 * older release, before the save refused them, still cannot reach Object.prototype.
 */
export function mapRecord(record: unknown, mapping: Record<string, string> | undefined): unknown {
  if (!mapping || record === null || typeof record !== 'object' || Array.isArray(record)) return record;
  const body = ownCopy(record as Record<string, unknown>);
  const entries = Object.entries(mapping);
  // Every pointer is checked before anything is moved: a hostile entry refuses the whole record.
  const sourceTops = entries.map(([target, source]) => {
    parsePointer(target);
    return parsePointer(source)[0];
  });
  entries.forEach(([target, source], i) => {
    const value = getPointer(record, source);
    const top = sourceTops[i];
    if (top !== undefined && !sourceTops.some((other, j) => entries[j]![1] !== source && other === top)) delete body[top];
    if (value !== undefined) setPointer(body, target, value);
  });
  return body;
}

/** The record's own fields on an object with no prototype (a `__proto__` field stays a plain field). */
function ownCopy(record: Record<string, unknown>): Record<string, unknown> {
  const copy = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(record))
    Object.defineProperty(copy, key, { value, writable: true, enumerable: true, configurable: true });
  return copy;
}
