/** Where a record stands in the listing order: its creation time, then its id. */
export interface ListingPosition {
  createdAt: string;
  id: string;
}

/**
 * The one order of every listing: oldest first, and records made in the same millisecond by id,
 * so a listing reads the same on every store and every call. Sorts `items` in place and returns
 * them. `createdAt` reads the creation time where a record names it otherwise (an audit event's
 * `at`). ISO timestamps and ids compare by code unit (localeCompare would be slower and depend
 * on the locale).
 */
export function oldestFirst<T extends { id: string; createdAt: string }>(items: T[]): T[];
export function oldestFirst<T extends { id: string }>(items: T[], createdAt: (item: T) => string): T[];
export function oldestFirst<T extends { id: string; createdAt?: string }>(
  items: T[],
  createdAt: (item: T) => string = (item) => item.createdAt!,
): T[] {
  return items.sort((a, b) => inListingOrder({ createdAt: createdAt(a), id: a.id }, { createdAt: createdAt(b), id: b.id }));
}

/** Negative when `a` is listed before `b`, positive after, 0 at the same place: what a page cursor positions by. */
export function inListingOrder(a: ListingPosition, b: ListingPosition): number {
  return compare(a.createdAt, b.createdAt) || compare(a.id, b.id);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
