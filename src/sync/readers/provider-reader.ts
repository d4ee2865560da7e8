import { InputError, OriginRefusedError, ProviderUnavailableError } from '../../errors.js';
import type { CursorPagination, PageNumberPagination, StreamConfig } from '../../generated/connector-manifest.js';
import type { ProviderClient } from '../../http/provider-client.js';
import { getPointer } from '../../text/json-pointer.js';
import { printable } from '../../text/printable.js';
import type { SyncEvent } from '../../generated/sync-event.js';
import type { Page, StreamReader } from '../stream-io.js';

export interface ProviderReaderOptions {
  client: ProviderClient;
  provider: string;
  name: string;
  stream: StreamConfig;
  /** Incremental cursor to start from, on a new run. */
  since: number | string | undefined;
  onEvent: (event: SyncEvent) => void;
  /** Page-number pagination: pages asked for before the current one is written (default 1, the next page only). */
  ahead?: number;
}

/**
 * A provider stream page by page. The next page is requested as soon as its link is known, so the
 * network wait overlaps the caller's write and checkpoint of the current page; with page numbers
 * the next `ahead` pages are requested at once, and still yielded in order.
 */
export function providerReader(options: ProviderReaderOptions): StreamReader {
  const { stream } = options;
  return {
    async *pages(from: string | null): AsyncGenerator<Page> {
      const start: URL = from ? rewriteForeign(options, new URL(from)) : firstPage(options);
      // Pages asked for before they were wanted are cancelled when the stream stops (a failure
      // elsewhere, a cancel): they must not hold the credential's slots, or its budget, after it.
      const unwanted = new AbortController();
      try {
        if (stream.pagination?.type === 'page') return yield* numberedPages(options, stream.pagination, start, unwanted.signal);
        return yield* cursorPages(options, start, unwanted.signal);
      } finally {
        unwanted.abort();
      }
    },
  };
}

/** Cursor pagination (or none): each page names the next, asked for before the current one is yielded. */
async function* cursorPages(options: ProviderReaderOptions, start: URL, signal: AbortSignal): AsyncGenerator<Page> {
  const walk: CursorWalk = { url: start, pending: fetchPage(options.client, start, signal), asked: new Set([start.toString()]) };
  // The body (records and envelope) lives in nextCursorPage's frame only: a suspended generator
  // keeps its locals through the wait for the next page, and the engine empties the page it yields.
  while (walk.pending && walk.url) yield await nextCursorPage(options, walk, signal);
}

/** Where a cursor-paginated stream is: the page being fetched, and every page asked for in this process. */
interface CursorWalk {
  url: URL | undefined;
  pending: Promise<{ body: unknown }> | undefined;
  /** Pages asked for in this process: a next link back to any of them would loop for ever. */
  asked: Set<string>;
}

/** The fetched page's records; the next page is asked for at once (a function, so the body dies with its frame). */
async function nextCursorPage(options: ProviderReaderOptions, walk: CursorWalk, signal: AbortSignal): Promise<Page> {
  const here = walk.url!;
  const { body } = await walk.pending!;
  const records = recordsOf(options, body);
  const next = nextPage(options, body, here);
  if (next && walk.asked.has(next.toString())) throw paginationStuck(options, next, next.toString() === here.toString());
  if (next) walk.asked.add(next.toString());
  walk.url = next;
  walk.pending = next ? fetchPage(options.client, next, signal) : undefined;
  return { records, next: next?.toString() ?? null };
}

/**
 * Page numbers need no answer to name the next page, so up to `ahead` pages are in flight while
 * the current one is written; they are yielded in order, so checkpoints stay in order. Where the
 * provider reports its page count, nothing past it is asked for; elsewhere the pages asked for past
 * the last one (a few requests of the budget, at the end of a stream) are dropped unread.
 */
async function* numberedPages(
  options: ProviderReaderOptions,
  pagination: PageNumberPagination,
  start: URL,
  signal: AbortSignal,
): AsyncGenerator<Page> {
  const first = Number.parseInt(start.searchParams.get(pagination.pageParam) ?? '', 10);
  const numbered = (n: number) => {
    const url = new URL(start);
    url.searchParams.set(pagination.pageParam, String(n));
    return url;
  };
  const queue: Promise<{ body: unknown }>[] = [];
  let toAsk = Number.isSafeInteger(first) ? first : pagination.firstPage;
  // Pages that exist, by the provider's count: unknown until an answer says (one page at a time till then).
  let end: number | undefined;
  const fill = () => {
    const depth = pagination.totalPages !== undefined && end === undefined ? 1 : Math.max(1, options.ahead ?? 1);
    while (queue.length < depth && (end === undefined || toAsk < end)) queue.push(fetchPage(options.client, numbered(toAsk++), signal));
    // The page says there is another although the count said no more (records added meanwhile): ask for it.
    if (queue.length === 0) queue.push(fetchPage(options.client, numbered(toAsk++), signal));
  };
  // The body lives in take's frame only (see cursorPages).
  const take = async (): Promise<Page> => {
    const here = numbered(toAsk - queue.length);
    const { body } = await queue.shift()!;
    const records = recordsOf(options, body);
    const next = nextPageNumber(pagination, body, records, here);
    if (pagination.totalPages !== undefined) {
      const total: unknown = getPointer(body, pagination.totalPages);
      if (typeof total === 'number' && Number.isSafeInteger(total)) end = pagination.firstPage + total;
    }
    if (next) fill();
    return { records, next: next?.toString() ?? null };
  };
  fill();
  for (;;) {
    const page = await take();
    const last = page.next === null;
    yield page;
    if (last) return;
  }
}

function recordsOf(options: ProviderReaderOptions, body: unknown): unknown[] {
  const records = getPointer(body, options.stream.recordSelector);
  if (!Array.isArray(records)) {
    throw new InputError(`${options.provider} answered ${options.stream.path} without a record list at ${options.stream.recordSelector}`, {
      code: 'provider_unexpected',
    });
  }
  return records;
}

/**
 * A page token that does not advance (a provider fault; Front's OpenAPI examples do it) stops the
 * sync with a named error rather than reading the same page for ever, or treating the stream as
 * finished and silently dropping the rest. The pages before it stay written and checkpointed; this
 * page's records are not written, since a resume would ask for the same page again.
 */
function paginationStuck({ provider, name }: ProviderReaderOptions, next: URL, same: boolean): ProviderUnavailableError {
  const where = printable(`${next.pathname}${next.search}`, 160);
  return new ProviderUnavailableError(
    `${provider}'s ${name} pagination does not advance: it sent a next-page link to ` +
      `${same ? 'the same page' : 'a page already read'} (${where}). ` +
      'Stopping rather than looping or reporting the stream complete; the pages before it are written and checkpointed, so run ' +
      'the sync again to resume once the provider moves on',
    { code: 'pagination_stuck' },
  );
}

function fetchPage(client: ProviderClient, url: URL, signal: AbortSignal): Promise<{ body: unknown }> {
  const request = client.request<unknown>({ path: url.toString(), signal });
  request.catch(() => undefined); // awaited once the current page is saved; not unhandled meanwhile
  return request;
}

/** The next page of a cursor-paginated (or unpaginated) stream, or none: the link or token the page names. */
function nextPage(options: ProviderReaderOptions, body: unknown, page: URL): URL | undefined {
  const pagination = options.stream.pagination;
  if (!pagination || pagination.type === 'page') return undefined;
  const link: unknown = getPointer(body, pagination.next);
  return typeof link === 'string' && link !== '' ? nextUrl(options, pagination, link, page) : undefined;
}

/** A link the provider gave (checked for its origin), or a cursor sent back to our own origin. */
function nextUrl(options: ProviderReaderOptions, pagination: CursorPagination, link: string, page: URL): URL {
  // A relative link is relative to the page it came on.
  if (pagination.nextIs !== 'token') return rewriteForeign(options, new URL(link, page));
  // A cursor continues the same query (limit, incremental filter): only the token changes.
  const url = new URL(page);
  url.searchParams.set(pagination.tokenParam, link);
  return url;
}

/**
 * Page numbers (Frontegg's `_offset`): the same query with the number plus one. A short or empty
 * page is the last, and so is one whose next link, when the manifest names it, is missing, null or
 * empty; the link itself is never followed, since the number is all the contract promises.
 */
function nextPageNumber(pagination: PageNumberPagination, body: unknown, records: unknown[], page: URL): URL | undefined {
  if (records.length === 0 || records.length < pagination.pageSize) return undefined;
  if (pagination.next !== undefined) {
    const link: unknown = getPointer(body, pagination.next);
    if (link === undefined || link === null || link === '') return undefined;
  }
  const current = Number.parseInt(page.searchParams.get(pagination.pageParam) ?? '', 10);
  const url = new URL(page);
  url.searchParams.set(pagination.pageParam, String((Number.isSafeInteger(current) ? current : pagination.firstPage) + 1));
  return url;
}

function firstPage({ client, stream, since }: ProviderReaderOptions): URL {
  const url = client.urlFor(stream.path);
  if (stream.pagination?.limitParam && stream.pagination.pageSize)
    url.searchParams.set(stream.pagination.limitParam, String(stream.pagination.pageSize));
  if (stream.pagination?.type === 'page') url.searchParams.set(stream.pagination.pageParam, String(stream.pagination.firstPage));
  if (stream.incremental && since !== undefined) {
    url.searchParams.set(stream.incremental.param, stream.incremental.template.replace('{cursor}', String(since)));
    for (const [key, value] of Object.entries(stream.incremental.extraParams ?? {})) url.searchParams.set(key, value);
  }
  return url;
}

/**
 * A next link on an origin the token does not belong to never receives it: its page token is
 * replayed against the credential's own origin, or the sync stops with a clear error.
 */
function rewriteForeign({ client, stream, name, provider, onEvent }: ProviderReaderOptions, next: URL): URL {
  if (client.allows(next)) return next;
  const replay = stream.pagination?.type === 'page' ? stream.pagination.pageParam : stream.pagination?.tokenParam;
  const token = replay ? next.searchParams.get(replay) : null;
  if (!token || !stream.pagination) {
    throw new OriginRefusedError(
      `${provider} sent a ${name} page link to ${printable(next.origin, 80)}, which may not receive the credential, and it ` +
        `carries no page token to replay`,
    );
  }
  const own = client.urlFor(stream.path);
  for (const [key, value] of next.searchParams) own.searchParams.set(key, value);
  onEvent({ event: 'link_rewritten', stream: name, origin: printable(next.origin, 80) });
  return own;
}
