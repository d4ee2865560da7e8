import { InputError } from './errors.js';
import { inListingOrder, type ListingPosition } from './listing-order.js';

/** The most items one page holds, and what the API answers when the caller names no `limit`. */
export const MAX_PAGE = 500;

/**
 * What every listing takes (the library, the CLI and the API alike): at most `limit` items, after
 * the item a `cursor` was made from. Neither given: the whole listing.
 */
export interface PageOptions {
  /** 1 to MAX_PAGE items. */
  limit?: number;
  /** The `next` of the page before, as it was given: opaque to the caller. */
  cursor?: string;
}

/**
 * One page of a listing: the items, in the listing order, and the cursor of the page after them
 * when there are more. An array, so a caller that reads every item as before reads this one the
 * same way (and JSON of it is the plain array); `next` rides beside the items.
 */
export type Page<T> = T[] & { next?: string };

/** The characters of a cursor (base64url, no padding) and its longest form: what the API's query schema checks first. */
export const CURSOR_PATTERN = '^[A-Za-z0-9_-]{1,400}$';
const CURSOR = new RegExp(CURSOR_PATTERN);
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const REFUSED = 'cursor is not a cursor this server gave (pass the next of the page before, unchanged)';

/**
 * The cursor after an item: its place in the listing order (creation time, id) as base64url JSON.
 * It holds a position, never a workspace or a filter: the listing it is used on still decides what
 * the caller sees, so another workspace's cursor reveals nothing of that workspace.
 */
export function encodeCursor(position: ListingPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString('base64url');
}

/** The position a cursor holds; anything this module did not make is refused, naming `cursor`. */
export function decodeCursor(cursor: string): ListingPosition {
  const decoded = CURSOR.test(cursor) ? parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  if (!Array.isArray(decoded) || decoded.length !== 2) throw new InputError(REFUSED, { field: 'cursor' });
  const [createdAt, id] = decoded as unknown[];
  if (typeof createdAt !== 'string' || !INSTANT.test(createdAt) || typeof id !== 'string' || id.length === 0 || id.length > 128)
    throw new InputError(REFUSED, { field: 'cursor' });
  return { createdAt, id };
}

/**
 * A page of a listing already in the listing order (oldestFirst): the items after the cursor's
 * position, at most `limit` of them, and `next` while items remain. The cursor positions, it does
 * not name an item: one deleted since still marks the place, and items made since come after it.
 */
export function pageOf<T extends { id: string }>(
  listed: T[],
  options: PageOptions,
  createdAt: (item: T) => string = (item) => (item as T & { createdAt: string }).createdAt,
): Page<T> {
  const limit = checkedLimit(options.limit);
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
  const at = (item: T): ListingPosition => ({ createdAt: createdAt(item), id: item.id });
  const start = after === undefined ? 0 : firstAfter(listed, (item) => inListingOrder(at(item), after) > 0);
  const items: Page<T> = listed.slice(start, limit === undefined ? undefined : start + limit);
  const last = items.at(-1);
  if (last !== undefined && start + items.length < listed.length) items.next = encodeCursor(at(last));
  return items;
}

function checkedLimit(limit: number | undefined): number | undefined {
  if (limit === undefined || (Number.isInteger(limit) && limit >= 1 && limit <= MAX_PAGE)) return limit;
  throw new InputError(`limit must be a whole number from 1 to ${MAX_PAGE}`, { field: 'limit' });
}

/** The index of the first item `isAfter` holds for (the listing is sorted, so a binary search); the length if none. */
function firstAfter<T>(items: T[], isAfter: (item: T) => boolean): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (isAfter(items[middle]!)) high = middle;
    else low = middle + 1;
  }
  return low;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
