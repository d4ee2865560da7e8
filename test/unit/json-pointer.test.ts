import { afterEach, describe, expect, it } from '@jest/globals';
import {
  checkPointer,
  escapeSegment,
  formatPointer,
  getPointer,
  isSafeKey,
  parsePointer,
  PointerError,
  setPointer,
  unescapeSegment,
} from '../../src/text/json-pointer.js';

// A pointer's segments become property keys: one naming a prototype slot would reach
// Object.prototype and change every object in the process (issue 21: a mapping target
// "/__proto__/baseUrl" gave every credential created later the attacker's base URL).

/** Every spelling of a pointer that reaches a prototype slot, at the start, inside or at the end. */
const HOSTILE_POINTERS = [
  '/__proto__',
  '/__proto__/baseUrl',
  '/constructor',
  '/constructor/prototype',
  '/constructor/prototype/baseUrl',
  '/prototype',
  '/prototype/x',
  '/a/__proto__',
  '/a/__proto__/b',
  '/a/b/constructor',
  '/handles/0/__proto__/x',
  '/0/prototype',
  '//__proto__', // an empty key, then the slot
];

const before = Object.getOwnPropertyNames(Object.prototype).sort();
afterEach(() => {
  // Whatever a test did, Object.prototype has exactly the keys it had (and no baseUrl).
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
  expect(({} as { baseUrl?: unknown }).baseUrl).toBeUndefined();
});

describe('the guard', () => {
  it('refuses __proto__, constructor and prototype as keys, and nothing else', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) expect(isSafeKey(key)).toBe(false);
    for (const key of ['proto', '__proto', 'Constructor', 'prototypes', 'toString', 'hasOwnProperty', 'name', '', 'a/__proto__', '~0'])
      expect(isSafeKey(key)).toBe(true);
  });

  it('refuses every hostile pointer, naming the segment', () => {
    for (const pointer of HOSTILE_POINTERS) {
      expect(checkPointer(pointer)).toMatch(/^"(__proto__|constructor|prototype)" cannot be a segment of a JSON pointer/);
      expect(() => parsePointer(pointer)).toThrow(PointerError);
    }
  });

  it('checks the unescaped keys: an escape cannot smuggle a slot in, and a slot inside a longer key is harmless', () => {
    // "~1" is "/" inside one key: "a/__proto__" is a single, ordinary key.
    expect(checkPointer('/a~1__proto__')).toBeUndefined();
    expect(parsePointer('/a~1__proto__')).toEqual(['a/__proto__']);
    expect(checkPointer('/__proto__~0')).toBeUndefined();
    expect(parsePointer('/__proto__~0')).toEqual(['__proto__~']);
    // Built from keys and read back, a slot is still refused.
    expect(checkPointer(formatPointer(['x', '__proto__']))).toMatch(/"__proto__"/);
  });

  it('refuses a malformed pointer: no leading "/", a bare "~"', () => {
    expect(checkPointer('name')).toMatch(/starts with "\/"/);
    expect(checkPointer('/a~2')).toMatch(/~0/);
    expect(checkPointer('/a~')).toMatch(/~0/);
    expect(checkPointer('')).toBeUndefined();
    expect(checkPointer('/')).toBeUndefined();
  });

  it('unescapes ~1 before ~0 (RFC 6901): "~01" is the key "~1", not "/"', () => {
    expect(unescapeSegment('~01')).toBe('~1');
    expect(escapeSegment('a/b~c')).toBe('a~1b~0c');
    expect(parsePointer(formatPointer(['a/b', '~1', '']))).toEqual(['a/b', '~1', '']);
  });
});

describe('getPointer', () => {
  const document = JSON.parse('{"a":{"b":[10,{"c":"x"}]},"__proto__":{"baseUrl":"https://attacker.example"},"x/y":1,"m~n":2}');

  it('reads own values, with escapes', () => {
    expect(getPointer(document, '/a/b/1/c')).toBe('x');
    expect(getPointer(document, '/x~1y')).toBe(1);
    expect(getPointer(document, '/m~0n')).toBe(2);
    expect(getPointer(document, '')).toBe(document);
    expect(getPointer(document, '/a/missing/c')).toBeUndefined();
  });

  it('never reads an inherited member', () => {
    for (const pointer of ['/toString', '/a/hasOwnProperty', '/a/b/map', '/a/b/1/valueOf'])
      expect(getPointer(document, pointer)).toBeUndefined();
  });

  it('refuses every hostile pointer, even where the document has such an own key (JSON.parse makes "__proto__" one)', () => {
    expect(Object.hasOwn(document, '__proto__')).toBe(true);
    for (const pointer of HOSTILE_POINTERS) expect(() => getPointer(document, pointer)).toThrow(PointerError);
  });
});

describe('setPointer', () => {
  it('creates null-prototype objects and arrays on the way, and own keys only', () => {
    const document: Record<string, unknown> = Object.create(null);
    setPointer(document, '/a/b', 1);
    setPointer(document, '/list/0/name', 'x');
    setPointer(document, '/toString/x', 2); // not Object.prototype.toString: a new own object
    expect(JSON.parse(JSON.stringify(document))).toEqual({ a: { b: 1 }, list: [{ name: 'x' }], toString: { x: 2 } });
    expect(Object.getPrototypeOf(document.a)).toBeNull();
    expect(Array.isArray(document.list)).toBe(true);
    expect(Object.getPrototypeOf((document.list as unknown[])[0])).toBeNull();
  });

  it('does not walk into an inherited member of an ordinary object', () => {
    const document: Record<string, unknown> = {};
    setPointer(document, '/hasOwnProperty/x', 1);
    expect(Object.hasOwn(document, 'hasOwnProperty')).toBe(true);
    expect(typeof Object.prototype.hasOwnProperty).toBe('function');
    expect((Object.prototype.hasOwnProperty as unknown as { x?: unknown }).x).toBeUndefined();
  });

  it('refuses every hostile pointer before it writes anything, on ordinary and null-prototype documents', () => {
    for (const pointer of HOSTILE_POINTERS) {
      const plain: Record<string, unknown> = { a: {}, handles: [{}] };
      expect(() => setPointer(plain, pointer, 'https://attacker.example')).toThrow(PointerError);
      expect(plain).toEqual({ a: {}, handles: [{}] });
      expect(() => setPointer(Object.create(null), pointer, 'https://attacker.example')).toThrow(PointerError);
    }
  });

  it('writes a key that is only spelled like a slot as an own key', () => {
    const document: Record<string, unknown> = {};
    setPointer(document, '/a~1__proto__', 1);
    expect(Object.keys(document)).toEqual(['a/__proto__']);
  });
});
