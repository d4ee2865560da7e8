// Paged listings (issue 24): credentials, sources, destinations and audit events a page at a time,
// through the library and the HTTP API, on every store. A cursor only positions: the caller's
// workspace still decides what is listed, so one tenant's cursor shows another nothing of its own.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { type Access, withAccess } from '../../src/access/access.js';
import { type Credport, openCredport } from '../../src/open-credport.js';
import { decodeCursor, MAX_PAGE, type Page, type PageOptions } from '../../src/page-cursor.js';
import { API_TOKEN, type ListeningApi, listenApi } from '../helpers/api-server.js';
import { fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';
import { rawStore, STORE_KIND, testStoreUri } from '../helpers/test-store.js';

let home: string;
let storeUri: string | undefined;
let credport: Credport;
let api: ListeningApi;
const acme: Access = { workspace: 'acme', role: 'admin' };
const globex: Access = { workspace: 'globex', role: 'admin' };
const as = <T>(access: Access, run: () => Promise<T>) => withAccess(access, run);

beforeEach(async () => {
  home = await tempHome();
  storeUri = await testStoreUri();
  credport = await openCredport({ home, storeUri, masterKey: randomMasterKey(), env: { CREDPORT_HTTP_RETRIES: '0' } });
  api = await listenApi(credport);
});
afterEach(async () => {
  await api.stop();
  await credport.close();
  await removeHome(home);
});

/** A credential saved without asking a provider (no request leaves this machine), with a source and a destination on it. */
async function saveOne(name: string) {
  const tile = await credport.credentials.create({ connector: 'front', values: { name, apiKey: fakeToken() }, verify: false });
  await credport.configs.addSource({ name, connector: 'front', credentialId: tile.id, streams: ['tags'] });
  await credport.configs.addDestination({ name, connector: 'jsonl', path: join(home, 'out', name) });
  return tile.id;
}

/** Six of acme's and four of globex's, made in turns, so each workspace's items sit between the other's in time. */
async function seedTwoWorkspaces(): Promise<void> {
  for (let i = 0; i < 6; i++) {
    await as(acme, () => saveOne(`acme ${i}`));
    if (i < 4) await as(globex, () => saveOne(`globex ${i}`));
  }
  await sameMillisecond();
}

/**
 * Puts most records of each kind in one millisecond, as a burst of saves would: their order (and
 * a cursor's) then rests on the id, which the store does not keep in order on its own.
 */
async function sameMillisecond(): Promise<void> {
  const raw = await rawStore(home, storeUri);
  try {
    const instant = new Date(Date.now() - 60_000).toISOString();
    const kinds: [string, () => Promise<{ id: string }[]>][] = [
      ['credential', () => credport.credentials.list()],
      ['source', () => credport.configs.listSources()],
      ['destination', () => credport.configs.listDestinations()],
    ];
    for (const [kind, list] of kinds) {
      const all = await as({ workspace: '*', role: 'admin' }, list);
      for (const { id } of all.filter((_, i) => i % 4 !== 0)) {
        const key = `credport:${kind}:${id}`;
        const stored = JSON.parse((await raw.get(key))!) as { value: { createdAt: string } };
        stored.value.createdAt = instant;
        await raw.set(key, JSON.stringify(stored));
      }
    }
  } finally {
    await raw.close();
  }
}

type Listing = (page?: PageOptions) => Promise<Page<{ id: string }>>;
const listings: [string, string, () => Listing][] = [
  ['credentials', '/credentials', () => (page) => credport.credentials.list(page)],
  ['sources', '/sources', () => (page) => credport.configs.listSources(page)],
  ['destinations', '/destinations', () => (page) => credport.configs.listDestinations(page)],
  ['audit events', '/audit', () => (page) => credport.audit.list(page)],
];

/** Every page of a library listing, following `next`. */
async function libraryPages(list: Listing, limit: number): Promise<string[][]> {
  const pages = [await list({ limit })];
  while (pages.at(-1)!.next !== undefined) pages.push(await list({ limit, cursor: pages.at(-1)!.next! }));
  return pages.map((page) => page.map((item) => item.id));
}

async function get(path: string, token = API_TOKEN) {
  const response = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return {
    status: response.status,
    link: response.headers.get('link'),
    body: (await response.json()) as { id: string }[] & { field?: string },
  };
}

/** Every page of an API listing, following the `rel="next"` links from `first`; `cursorsAt`: the ids the links' cursors hold. */
async function apiPages(first: string, token = API_TOKEN, cursorsAt: string[] = []): Promise<string[][]> {
  const pages: string[][] = [];
  let path: string | undefined = `/api/v1${first}`;
  while (path !== undefined) {
    const answer = await get(path, token);
    expect(answer.status).toBe(200);
    pages.push(answer.body.map((item) => item.id));
    path = answer.link === null ? undefined : /^<([^>]+)>; rel="next"$/.exec(answer.link)![1];
    if (path !== undefined) cursorsAt.push(decodeCursor(new URL(path, api.url).searchParams.get('cursor')!).id);
  }
  return pages;
}

const tokenOf = (access: Access) => as(access, async () => (await credport.tokens.create({ name: 'lister', role: 'viewer' })).token!);

describe.each(listings)(`paging %s on ${STORE_KIND}`, (_name, route, listing) => {
  beforeEach(seedTwoWorkspaces);

  it('through the library: every item of the workspace once, in the listing order, a page at a time', async () => {
    for (const access of [acme, globex]) {
      const all = (await as(access, () => listing()())).map((item) => item.id);
      expect(all.length).toBeGreaterThan(3);
      const pages = await as(access, () => libraryPages(listing(), 3));
      expect(pages.flat()).toEqual(all);
      expect(pages.slice(0, -1).every((page) => page.length === 3)).toBe(true);
    }
  });

  it('through the API: the array as before, and a Link header to each next page until the last', async () => {
    const acmeToken = await tokenOf(acme);
    const whole = await get(`/api/v1${route}`, acmeToken);
    expect(whole.status).toBe(200);
    expect(whole.body.length).toBeGreaterThan(4); // three pages of two or more
    expect(whole.link).toBeNull(); // all of it fits in one page of the default size
    const pages = await apiPages(`${route}?limit=2`, acmeToken);
    expect(pages.flat()).toEqual(whole.body.map((item) => item.id));
    expect(pages.length).toBe(Math.ceil(whole.body.length / 2));
  });

  it("never shows another workspace's items: its cursor only positions this workspace's listing", async () => {
    const acmeIds = (await as(acme, () => listing()())).map((item) => item.id);
    const globexIds = (await as(globex, () => listing()())).map((item) => item.id);
    const acmeFirst = await as(acme, () => listing()({ limit: 2 }));
    const mixed = await as(globex, () => listing()({ cursor: acmeFirst.next! }));
    expect(mixed.every((item) => globexIds.includes(item.id))).toBe(true);
    expect(mixed.some((item) => acmeIds.includes(item.id))).toBe(false);

    const [acmeToken, globexToken] = [await tokenOf(acme), await tokenOf(globex)];
    const first = await get(`/api/v1${route}?limit=2`, acmeToken);
    const cursor = /cursor=([^&>]+)/.exec(first.link!)![1]!;
    const pagesForGlobex = await apiPages(`${route}?limit=2&cursor=${cursor}`, globexToken);
    expect(pagesForGlobex.flat().every((id) => globexIds.includes(id))).toBe(true);
    expect(pagesForGlobex.flat()).toEqual(globexIds.filter((id) => mixed.some((item) => item.id === id)));
    // Neither in a page nor in the cursor of a link (opaque is not secret: it decodes to an id).
    const cursorsAt: string[] = [];
    for (const page of await apiPages(`${route}?limit=1`, globexToken, cursorsAt))
      expect(page.some((id) => acmeIds.includes(id))).toBe(false);
    expect(cursorsAt).toEqual(globexIds.slice(0, -1));
  });

  it('refuses a malformed cursor at /query/cursor and a limit outside 1 to 500 at /query/limit, listing nothing', async () => {
    const notOurs = Buffer.from('["someday","x"]').toString('base64url');
    for (const query of ['cursor=not%20a%20cursor', `cursor=${notOurs}`, 'cursor=']) {
      const answer = await get(`/api/v1${route}?${query}`);
      expect([answer.status, answer.body.field]).toEqual([400, '/query/cursor']);
    }
    for (const query of ['limit=0', 'limit=501', 'limit=ten', 'limit=2.5', 'limit=-1', 'limit=']) {
      const answer = await get(`/api/v1${route}?${query}`);
      expect([answer.status, answer.body.field]).toEqual([400, '/query/limit']);
    }
  });
});

describe(`the default page on ${STORE_KIND}`, () => {
  it(`holds ${MAX_PAGE} items and links to the rest, so a caller that never asked for pages is told there is more`, async () => {
    for (let i = 0; i <= MAX_PAGE; i += 50)
      await Promise.all(
        Array.from({ length: Math.min(50, MAX_PAGE + 1 - i) }, (_, j) =>
          credport.credentials.create({ connector: 'front', values: { name: `c${i + j}`, apiKey: fakeToken() }, verify: false }),
        ),
      );
    const first = await get('/api/v1/credentials');
    expect(first.body).toHaveLength(MAX_PAGE);
    expect(first.link).toMatch(/^<\/api\/v1\/credentials\?cursor=[A-Za-z0-9_-]+>; rel="next"$/);
    const rest = await get(/^<([^>]+)>/.exec(first.link!)![1]!);
    expect(rest.body).toHaveLength(1);
    expect(rest.link).toBeNull();
    expect([...first.body, ...rest.body].map((t) => t.id)).toEqual((await credport.credentials.list()).map((t) => t.id));
  });
});
