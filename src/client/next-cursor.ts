const NEXT = /<([^>]*)>\s*;\s*rel="?next"?/;

/**
 * The cursor of the next page a listing's answer names in its `Link: <url>; rel="next"` header, or
 * undefined on the last page: pass it as `query.cursor` to read the next one.
 *
 *   let cursor: string | undefined;
 *   do {
 *     const tiles = await credport.listCredentials({ query: { cursor } }, { onResponse: (r) => (cursor = nextCursor(r)) });
 *   } while (cursor);
 */
export function nextCursor(response: Response): string | undefined {
  const link = NEXT.exec(response.headers.get('link') ?? '')?.[1];
  return link === undefined ? undefined : (new URL(link, 'http://link.invalid').searchParams.get('cursor') ?? undefined);
}
