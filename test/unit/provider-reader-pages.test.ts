import { describe, expect, it } from '@jest/globals';
import type { StreamConfig } from '../../src/generated/connector-manifest.js';
import type { ProviderClient } from '../../src/http/provider-client.js';
import { providerReader } from '../../src/sync/readers/provider-reader.js';
import type { Page } from '../../src/sync/stream-io.js';

/**
 * The provider reader's pagination against a client that answers from a function and counts the
 * requests outstanding: what it asks for, how far ahead, and when it stops.
 */
function fakeClient(answer: (url: URL) => unknown) {
  const asked: string[] = [];
  let outstanding = 0;
  let most = 0;
  const client = {
    urlFor: (path: string) => new URL(path, 'https://api.example.com'),
    allows: () => true,
    request: async ({ path }: { path: string }) => {
      asked.push(path);
      most = Math.max(most, ++outstanding);
      await new Promise((resolve) => setTimeout(resolve, 2));
      outstanding -= 1;
      return { status: 200, headers: {}, body: answer(new URL(path)) };
    },
  } as unknown as ProviderClient;
  return { client, asked, most: () => most };
}

async function read(stream: StreamConfig, client: ProviderClient, ahead = 1): Promise<Page[]> {
  const pages: Page[] = [];
  for await (const page of providerReader({
    client,
    provider: 'Test',
    name: 's',
    stream,
    since: undefined,
    onEvent: () => undefined,
    ahead,
  }).pages(null))
    pages.push(page);
  return pages;
}

const numbered = (extra: Record<string, unknown> = {}): StreamConfig =>
  ({
    path: '/items',
    recordSelector: '/items',
    primaryKey: 'id',
    scopes: [],
    pagination: { type: 'page', pageParam: 'page', firstPage: 1, limitParam: 'limit', pageSize: 10, ...extra },
  }) as StreamConfig;

/** 45 records, 10 a page: pages 1-4 full, page 5 short, pages past it empty. */
const fortyFive = (withTotal: boolean) => (url: URL) => {
  const page = Number(url.searchParams.get('page'));
  const items = Array.from({ length: Math.max(0, Math.min(10, 45 - (page - 1) * 10)) }, (_, i) => ({ id: (page - 1) * 10 + i }));
  return withTotal ? { items, total: 5 } : { items };
};

describe('the provider reader', () => {
  it('reads an unpaginated list (Frontline) in one request', async () => {
    const { client, asked } = fakeClient(() => ({ results: [{ id: 1 }, { id: 2 }] }));
    const pages = await read({ path: '/agents', recordSelector: '/results', primaryKey: 'id', scopes: [] } as StreamConfig, client);
    expect(pages).toEqual([{ records: [{ id: 1 }, { id: 2 }], next: null }]);
    expect(asked).toHaveLength(1);
  });

  it('asks for numbered pages ahead once the first answer gave the count, never past it, and yields them in order', async () => {
    const { client, asked, most } = fakeClient(fortyFive(true));
    const pages = await read(numbered({ totalPages: '/total' }), client, 3);
    expect(pages.flatMap((p) => p.records.map((r) => (r as { id: number }).id))).toEqual(Array.from({ length: 45 }, (_, i) => i));
    expect(asked.map((u) => new URL(u).searchParams.get('page'))).toEqual(['1', '2', '3', '4', '5']);
    expect(most()).toBe(3);
    expect(pages.at(-1)!.next).toBeNull();
    expect(new URL(pages[0]!.next!).searchParams.get('page')).toBe('2');
  });

  it('without a count, keeps `ahead` pages in flight from the first, and stops at the short page', async () => {
    const { client, asked, most } = fakeClient(fortyFive(false));
    const pages = await read(numbered(), client, 3);
    expect(pages.map((p) => p.records.length)).toEqual([10, 10, 10, 10, 5]);
    expect(most()).toBe(3);
    // Pages 6 and 7 were asked for ahead, and dropped.
    expect(asked.length).toBeLessThanOrEqual(7);
  });

  it('asks one page at a time with ahead 1', async () => {
    const { client, most } = fakeClient(fortyFive(false));
    await read(numbered(), client, 1);
    expect(most()).toBe(1);
  });

  it('ends a cursor stream on an empty next link, as on a null one', async () => {
    const stream = {
      path: '/tags',
      recordSelector: '/_results',
      primaryKey: 'id',
      scopes: [],
      pagination: { type: 'cursor', next: '/_pagination/next', tokenParam: 'page_token' },
    } as StreamConfig;
    const { client, asked } = fakeClient(() => ({ _results: [{ id: 1 }], _pagination: { next: '' } }));
    const pages = await read(stream, client);
    expect(pages).toHaveLength(1);
    expect(asked).toHaveLength(1);
  });

  it('ends numbered pages at an empty page, and at a full page whose next link is missing, null or empty', async () => {
    for (const link of [undefined, null, '']) {
      const { client, asked } = fakeClient((url) => ({
        items: Array.from({ length: 10 }, (_, i) => ({ id: i })),
        ...(link === undefined ? {} : { next: link }),
        page: url.searchParams.get('page'),
      }));
      const pages = await read(numbered({ next: '/next' }), client);
      expect(pages).toHaveLength(1);
      expect(asked).toHaveLength(1);
    }
    const { client, asked } = fakeClient((url) => ({
      items: url.searchParams.get('page') === '1' ? Array.from({ length: 10 }, (_, i) => ({ id: i })) : [],
      next: 'more',
    }));
    expect((await read(numbered({ next: '/next' }), client)).map((p) => p.records.length)).toEqual([10, 0]);
    expect(asked).toHaveLength(2);
  });

  it('follows a full page whose next link is there, by number, never by the link', async () => {
    const { client, asked } = fakeClient((url) => {
      const page = Number(url.searchParams.get('page'));
      return { items: Array.from({ length: page < 3 ? 10 : 2 }, (_, i) => ({ id: i })), next: 'https://elsewhere.example/items?page=99' };
    });
    await read(numbered({ next: '/next' }), client);
    expect(asked.map((u) => new URL(u).searchParams.get('page'))).toEqual(['1', '2', '3']);
  });

  it('takes a page count only when it is a whole number', async () => {
    const { client, asked } = fakeClient((url) => ({ ...fortyFive(false)(url), total: '5' }));
    const pages = await read(numbered({ totalPages: '/total' }), client, 3);
    expect(pages.map((p) => p.records.length)).toEqual([10, 10, 10, 10, 5]);
    // No count: one page at a time, as the manifest promised a count that never came.
    expect(asked.map((u) => new URL(u).searchParams.get('page'))).toEqual(['1', '2', '3', '4', '5']);
  });

  it('names an answer without the record list where the manifest says it is', async () => {
    const { client } = fakeClient(() => ({ data: [] }));
    await expect(read(numbered(), client)).rejects.toMatchObject({
      code: 'provider_unexpected',
      message: 'Test answered /items without a record list at /items',
    });
  });

  it('refuses a next link to an origin the credential does not belong to when it carries no page token to replay', async () => {
    const stream = {
      path: '/tags',
      recordSelector: '/_results',
      primaryKey: 'id',
      scopes: [],
      pagination: { type: 'cursor', next: '/_pagination/next', tokenParam: 'page_token' },
    } as StreamConfig;
    const { client, asked } = fakeClient(() => ({ _results: [{ id: 1 }], _pagination: { next: 'https://evil.example/tags?cursor=abc' } }));
    (client as unknown as { allows: (u: URL) => boolean }).allows = (u) => u.origin === 'https://api.example.com';
    await expect(read(stream, client)).rejects.toMatchObject({
      code: 'origin_refused',
      message:
        'Test sent a s page link to https://evil.example, which may not receive the credential, and it carries no page token to replay',
    });
    expect(asked).toHaveLength(1);
  });

  it('stops when a cursor leads back to a page read earlier in the stream, not only the first', async () => {
    const stream = {
      path: '/tags',
      recordSelector: '/_results',
      primaryKey: 'id',
      scopes: [],
      pagination: { type: 'cursor', next: '/_pagination/next', nextIs: 'token', tokenParam: 't' },
    } as StreamConfig;
    const after: Record<string, string> = { '': 'b', b: 'c', c: 'b' };
    const { client } = fakeClient((url) => ({ _results: [{ id: 1 }], _pagination: { next: after[url.searchParams.get('t') ?? ''] } }));
    await expect(read(stream, client)).rejects.toMatchObject({
      code: 'pagination_stuck',
      message: expect.stringContaining('a next-page link to a page already read (/tags?t=b)'),
    });
  });

  it('asks for the page after the counted last one when that page says there is more', async () => {
    const { client, asked } = fakeClient((url) => {
      const page = Number(url.searchParams.get('page'));
      return { items: Array.from({ length: page < 4 ? 10 : 4 }, (_, i) => ({ id: i })), total: 2 }; // records were added since the count
    });
    const pages = await read(numbered({ totalPages: '/total' }), client, 3);
    expect(pages.map((p) => p.records.length)).toEqual([10, 10, 10, 4]);
    expect(pages.map((p) => (p.next ? new URL(p.next).searchParams.get('page') : null))).toEqual(['2', '3', '4', null]);
    expect(asked.map((u) => new URL(u).searchParams.get('page'))).toEqual(['1', '2', '3', '4']);
  });
});
