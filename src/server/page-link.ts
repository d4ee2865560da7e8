import type { FastifyReply, FastifyRequest } from 'fastify';
import { CURSOR_PATTERN, MAX_PAGE, type Page, type PageOptions } from '../page-cursor.js';

/**
 * The query parameters of a paged listing, as its route's querystring schema declares them. A
 * listing answers the same JSON array it always did; the next page is named in a `Link` header
 * (RFC 8288), so a caller that never asked for pages reads the answer as before.
 */
export const PAGE_QUERY = {
  limit: {
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE,
    description: `items per page, 1 to ${MAX_PAGE} (default ${MAX_PAGE}); a \`Link: <...>; rel="next"\` header names the next page`,
  },
  cursor: {
    type: 'string',
    pattern: CURSOR_PATTERN,
    'x-pattern-message': 'is not a cursor this server gave (pass the next of the page before, unchanged)',
    description: 'where the page starts: the `cursor` of the `rel="next"` link of the page before (opaque)',
  },
} as const;

/** The header a paged listing's 200 declares. */
export const NEXT_LINK = {
  Link: {
    description:
      'Only while items remain: `<url>; rel="next"`, the URL (relative to the server) of the next page: this request with its `cursor`',
    type: 'string',
  },
};

/** The page options of a request: the caller's, else a page of MAX_PAGE, so an answer never holds more. */
export function pageRequested(query: PageOptions): PageOptions {
  return { limit: query.limit ?? MAX_PAGE, ...(query.cursor !== undefined ? { cursor: query.cursor } : {}) };
}

/** Sends a page's items as the array, and the link to the next page while there is one. */
export function sendPage<T>(request: FastifyRequest, reply: FastifyReply, page: Page<T>, items: T[] = page): FastifyReply {
  if (page.next !== undefined) reply.header('link', `<${nextUrl(request.url, page.next)}>; rel="next"`);
  return reply.send(items);
}

/** The request's own URL with the next cursor: its filters and limit kept, so following the links pages the same listing. */
function nextUrl(url: string, cursor: string): string {
  const next = new URL(url, 'http://credport.invalid');
  next.searchParams.set('cursor', cursor);
  return `${next.pathname}${next.search}`;
}
