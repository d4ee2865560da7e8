import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../src/errors.js';
import { oldestFirst } from '../../src/listing-order.js';
import { decodeCursor, encodeCursor, MAX_PAGE, type Page, pageOf } from '../../src/page-cursor.js';

// Every paged listing (credentials, sources, destinations, audit events) follows its cursor
// through the one listing order; these are the promises a caller paging by `next` relies on.

const at = (ms: number) => new Date(Date.UTC(2026, 10, 26, 12, 0, 0, ms)).toISOString();
/** Ten items, several made in one millisecond, in the listing order. */
const listing = () =>
  oldestFirst([
    { id: 'j', createdAt: at(1) },
    { id: 'a', createdAt: at(5) },
    { id: 'c', createdAt: at(5) },
    { id: 'b', createdAt: at(5) },
    { id: 'z', createdAt: at(2) },
    { id: 'd', createdAt: at(9) },
    { id: 'e', createdAt: at(9) },
    { id: 'y', createdAt: at(3) },
    { id: 'f', createdAt: at(9) },
    { id: 'x', createdAt: at(7) },
  ]);

/** Every page from the first, following `next`. */
function allPages<T extends { id: string; createdAt: string }>(items: T[], limit: number): Page<T>[] {
  const pages = [pageOf(items, { limit })];
  while (pages.at(-1)!.next !== undefined) pages.push(pageOf(items, { limit, cursor: pages.at(-1)!.next! }));
  return pages;
}

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error instanceof InputError ? { field: error.field, message: error.message } : error;
  }
  return 'not refused';
};

describe('a page cursor', () => {
  it('pages through every item once, in the listing order, records of one millisecond included', () => {
    const items = listing();
    for (const limit of [1, 2, 3, 4, 9, 10]) {
      const pages = allPages(items, limit);
      expect(pages.flat().map((i) => i.id)).toEqual(items.map((i) => i.id));
      expect(pages.every((page) => page.length <= limit && page.length > 0)).toBe(true);
    }
  });

  it('says next only while items remain: none on the last page, even a full one', () => {
    const items = listing();
    expect(pageOf(items, { limit: 5 }).next).toBeDefined();
    expect(pageOf(items, { limit: 5, cursor: pageOf(items, { limit: 5 }).next! }).next).toBeUndefined();
    expect(pageOf(items, { limit: 10 }).next).toBeUndefined();
    expect(pageOf(items, {}).next).toBeUndefined();
    expect(pageOf([], { limit: 1 })).toEqual([]);
  });

  it('gives the whole listing when asked for no page (what the library and CLI callers of before get)', () => {
    const items = listing();
    expect(pageOf(items, {})).toEqual(items);
  });

  it('holds a position, not an item: the item it came from deleted, or items made since, the next page goes on from there', () => {
    const items = listing();
    const first = pageOf(items, { limit: 3 }); // j, z, y
    const rest = items.filter((i) => i.id !== 'y'); // y deleted
    rest.push({ id: 'new', createdAt: at(8) });
    oldestFirst(rest);
    expect(pageOf(rest, { limit: 3, cursor: first.next! }).map((i) => i.id)).toEqual(['a', 'b', 'c']);
    expect(pageOf(rest, { cursor: first.next! }).map((i) => i.id)).toEqual(['a', 'b', 'c', 'x', 'new', 'd', 'e', 'f']);
  });

  it('is opaque base64url of the last item’s creation time and id, and reads back as that position', () => {
    const cursor = encodeCursor({ createdAt: at(5), id: 'cred_abc' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual({ createdAt: at(5), id: 'cred_abc' });
    expect(pageOf(listing(), { limit: 2 }).next).toBe(encodeCursor({ createdAt: at(2), id: 'z' }));
  });

  it('refuses a cursor it did not make, naming cursor', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    for (const cursor of [
      '',
      'not a cursor!',
      'x'.repeat(401),
      b64('plain text'),
      b64('{"createdAt":"2026-11-26T12:00:00.000Z","id":"a"}'),
      b64('["2026-11-26T12:00:00.000Z"]'),
      b64('["2026-11-26T12:00:00.000Z","a","b"]'),
      b64('["yesterday","a"]'),
      b64('["2026-11-26T12:00:00.000Z",""]'),
      b64('["2026-11-26T12:00:00.000Z",7]'),
      b64(`["2026-11-26T12:00:00.000Z","${'i'.repeat(129)}"]`),
    ]) {
      expect(refusal(() => pageOf(listing(), { limit: 2, cursor }))).toEqual({
        field: 'cursor',
        message: 'cursor is not a cursor this server gave (pass the next of the page before, unchanged)',
      });
    }
  });

  it(`takes a limit of 1 to ${MAX_PAGE} whole items, naming limit otherwise`, () => {
    for (const limit of [0, -1, 1.5, MAX_PAGE + 1, Number.NaN]) {
      expect(refusal(() => pageOf(listing(), { limit }))).toEqual({
        field: 'limit',
        message: `limit must be a whole number from 1 to ${MAX_PAGE}`,
      });
    }
    expect(pageOf(listing(), { limit: MAX_PAGE })).toHaveLength(10);
  });
});
