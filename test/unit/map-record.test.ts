import { describe, expect, it } from '@jest/globals';
import { mapRecord } from '../../src/sync/map-record.js';
import { PointerError } from '../../src/text/json-pointer.js';
import { checkRequirement } from '../../src/sync/requirements.js';
import type { CredentialTile } from '../../src/generated/credential-tile.js';

// A destination's mapping turns a source record into the request body the provider documents: a
// wrong move sends the provider a body it refuses, or a field under the wrong name.

describe("a destination's mapping", () => {
  it('moves top-level fields to their body pointers, creating objects and arrays on the way', () => {
    const record = { email: 'ada@example.com', full_name: 'Ada', keep: 1 };
    expect(mapRecord(record, { '/handles/0/handle': '/email', '/handles/0/source/kind': '/keep', '/name': '/full_name' })).toEqual({
      handles: [{ handle: 'ada@example.com', source: { kind: 1 } }],
      name: 'Ada',
    });
    expect(record).toEqual({ email: 'ada@example.com', full_name: 'Ada', keep: 1 }); // the record itself is not changed
  });

  it('keeps a source field that another mapping still reads, and fields it does not map', () => {
    expect(mapRecord({ id: 'x', name: 'N', other: true }, { '/external_id': '/id', '/links/0': '/id' })).toEqual({
      external_id: 'x',
      links: ['x'],
      name: 'N',
      other: true,
    });
    // Two mappings read inside one field: it stays, as neither alone moves it.
    expect(mapRecord({ a: { b: 1, c: 2 } }, { '/x': '/a/b', '/y': '/a/c' })).toEqual({ a: { b: 1, c: 2 }, x: 1, y: 2 });
    expect(mapRecord({ a: { b: 1 } }, { '/x': '/a/b' })).toEqual({ x: 1 });
  });

  it('sets nothing for a source the record lacks, and replaces a value that is in the way', () => {
    expect(mapRecord({ name: 'N', meta: 'text' }, { '/missing': '/nope', '/meta/level': '/name' })).toEqual({ meta: { level: 'N' } });
  });

  it('makes an array only for a whole-number step, and keeps reading a field by its whole name', () => {
    expect(mapRecord({ v: 'x' }, { '/list/1/a': '/v', '/obj/a0/b': '/v', '/obj2/0a/b': '/v', '/big/10/c': '/v' })).toEqual({
      list: [undefined, { a: 'x' }],
      obj: { a0: { b: 'x' } },
      obj2: { '0a': { b: 'x' } },
      big: Object.assign(Array(10).fill(undefined), { 10: { c: 'x' } }),
    });
    // Two mappings read inside "meta": it stays (names longer than one letter compared whole).
    expect(mapRecord({ meta: { b: 1, c: 2 }, mx: 3 }, { '/x': '/meta/b', '/y': '/meta/c', '/z': '/mx' })).toEqual({
      meta: { b: 1, c: 2 },
      x: 1,
      y: 2,
      z: 3,
    });
  });

  it('reads and writes pointers with escaped "/" and "~"', () => {
    expect(mapRecord({ 'a/b': 1, 'c~d': 2 }, { '/x~1y': '/a~1b', '/z~0w': '/c~0d' })).toEqual({ 'x/y': 1, 'z~w': 2 });
  });

  it('leaves a record that is not an object, and any record without a mapping, as it is', () => {
    for (const record of [null, 'text', 5, [1, 2]]) expect(mapRecord(record, { '/a': '/b' })).toBe(record);
    const record = { a: 1 };
    expect(mapRecord(record, undefined)).toBe(record);
  });
});

describe('a mapping whose pointers reach a prototype slot (such as "/__proto__/baseUrl")', () => {
  const before = Object.getOwnPropertyNames(Object.prototype).sort();
  const record = JSON.parse(
    '{"name":"tag","url":"https://attacker.example","__proto__":{"baseUrl":"https://attacker.example"},"constructor":{"prototype":{"x":1}}}',
  );
  const hostile: Record<string, string>[] = [
    { '/__proto__/baseUrl': '/url' },
    { '/constructor/prototype/baseUrl': '/url' },
    { '/prototype/baseUrl': '/url' },
    { '/a/__proto__/baseUrl': '/url' },
    { '/handles/0/constructor/prototype': '/url' },
    { '/__proto__': '/url' },
    { '/name': '/__proto__' },
    { '/name': '/__proto__/baseUrl' },
    { '/name': '/constructor/prototype/x' },
    { '/name': '/a/prototype' },
    { '/name': '/name', '/x/__proto__/y': '/url' }, // one bad entry among good ones
  ];

  it.each(hostile)('refuses %j, setting nothing on any prototype', (mapping) => {
    expect(() => mapRecord(record, mapping)).toThrow(PointerError);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as { baseUrl?: unknown }).baseUrl).toBeUndefined();
    expect((Object as unknown as { baseUrl?: unknown }).baseUrl).toBeUndefined();
  });

  it('builds the body on an object with no prototype, keeping a record\'s own "__proto__" field as a plain field', () => {
    const body = mapRecord(record, { '/title': '/name' }) as Record<string, unknown>;
    expect(Object.getPrototypeOf(body)).toBeNull();
    expect(Object.hasOwn(body, '__proto__')).toBe(true);
    expect(JSON.parse(JSON.stringify(body))).toEqual(
      JSON.parse(
        '{"url":"https://attacker.example","__proto__":{"baseUrl":"https://attacker.example"},"constructor":{"prototype":{"x":1}},"title":"tag"}',
      ),
    );
    expect(({} as { baseUrl?: unknown }).baseUrl).toBeUndefined();
  });
});

describe("an operation's credential requirement", () => {
  const tile = (identity?: Record<string, unknown>) =>
    ({ id: 'cred_0123456789abcdef', name: 'Ops', identity }) as unknown as CredentialTile;
  const requires = { identity: { keyType: 'USER' }, help: 'a USER key (Frontline: Settings > API keys)' };

  it('passes a credential whose identity has the value, and any credential when there is none', () => {
    expect(() => checkRequirement(requires, tile({ keyType: 'USER' }), 'stream agents')).not.toThrow();
    expect(() => checkRequirement(undefined, tile(), 'stream agents')).not.toThrow();
  });

  it('refuses another value, or a credential never verified, naming both and the fix', () => {
    expect(() => checkRequirement(requires, tile({ keyType: 'GENERAL' }), 'stream agents')).toThrow(
      expect.objectContaining({
        field: 'credentialId',
        code: 'credential_unsuitable',
        message:
          'stream agents needs a credential whose keyType is USER, but credential cred_0123456789abcdef ("Ops") has GENERAL: use a USER key (Frontline: Settings > API keys)',
      }),
    );
    expect(() => checkRequirement(requires, tile(), 'stream agents')).toThrow(
      'stream agents needs a credential whose keyType is USER, but credential cred_0123456789abcdef ("Ops") has no keyType (verify it with: credport credentials test cred_0123456789abcdef): use a USER key (Frontline: Settings > API keys)',
    );
  });
});
