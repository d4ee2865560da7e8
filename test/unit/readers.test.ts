import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createBearerAuth } from '../../src/auth/bearer.js';
import { createTokenExchangeAuth } from '../../src/auth/token-exchange.js';
import { ProviderClient } from '../../src/http/provider-client.js';
import type { Connector } from '../../src/registry/connector.js';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';
import { jsonlReader } from '../../src/sync/readers/jsonl-reader.js';
import { providerReader } from '../../src/sync/readers/provider-reader.js';
import type { Page } from '../../src/sync/stream-io.js';
import { type LedgerEntry, ProviderWriter } from '../../src/sync/writers/provider-writer.js';
import { Collection } from '../../src/store/collection.js';
import Keyv from 'keyv';
import { removeHome, tempHome } from '../helpers/temp-home.js';
import { useNock } from '../helpers/use-nock.js';

const nock = useNock();
let dir: string;
let registry: ConnectorRegistry;
beforeAll(async () => {
  dir = await tempHome();
  registry = await ConnectorRegistry.load();
});
afterAll(() => removeHome(dir));

async function all(pages: AsyncGenerator<Page>): Promise<Page[]> {
  const out: Page[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

describe('the JSONL reader', () => {
  it('pages by 100 lines, resumes at a byte offset with the same row numbers, and skips blank lines', async () => {
    const file = join(dir, 'rows.jsonl');
    await writeFile(file, `${Array.from({ length: 250 }, (_, i) => JSON.stringify({ i })).join('\n\n')}\n`);
    const pages = await all(jsonlReader(file).pages(null));
    expect(pages.map((p) => p.records.length)).toEqual([100, 100, 50]);
    const resumed = await all(jsonlReader(file).pages(pages[0]!.next));
    expect(resumed[0]!.records[0]).toEqual({ i: 100 });
    expect(resumed[0]!.rows![0]).toBe(pages[1]!.rows![0]);
  });

  it('takes CRLF line ends, a last line without one, and blank or whitespace-only lines; a line that is not JSON is a problem of its row', async () => {
    const file = join(dir, 'mixed.jsonl');
    await writeFile(file, '{"a":1}\r\n   \n{bad\n\n{"b":2}');
    const pages = await all(jsonlReader(file).pages(null));
    expect(pages).toHaveLength(1);
    expect(pages[0]).toEqual({
      records: [{ a: 1 }, null, { b: 2 }],
      rows: [1, 3, 5],
      problems: new Map([[1, 'line 3 is not valid JSON']]),
      next: null,
    });
  });

  it('ends with the last full page: no empty page after exactly 100 lines', async () => {
    const file = join(dir, 'hundred.jsonl');
    await writeFile(file, `${Array.from({ length: 100 }, (_, i) => JSON.stringify({ i })).join('\n')}\n`);
    const pages = await all(jsonlReader(file).pages(null));
    expect(pages.map((p) => p.records.length)).toEqual([100]);
  });

  it('resumes at the right byte in a file read in many chunks', async () => {
    const file = join(dir, 'long.jsonl');
    const pad = 'x'.repeat(1000); // 250 KB: several of the stream's 64 KiB chunks, lines split across them
    await writeFile(file, `${Array.from({ length: 250 }, (_, i) => JSON.stringify({ i, pad })).join('\n')}\n`);
    const pages = await all(jsonlReader(file).pages(null));
    const resumed = await all(jsonlReader(file).pages(pages[1]!.next));
    expect(resumed.flatMap((p) => p.records).map((r) => (r as { i: number }).i)).toEqual(Array.from({ length: 50 }, (_, i) => 200 + i));
    expect(resumed[0]!.rows![0]).toBe(201);
  });

  it('names a file it cannot open, and the field that holds its path', async () => {
    const file = join(dir, 'missing.jsonl');
    await expect(all(jsonlReader(file).pages(null))).rejects.toMatchObject({ field: 'path', message: `${file} cannot be read (ENOENT)` });
  });

  it('refuses a line over 16 MiB as a row problem instead of buffering it', async () => {
    const file = join(dir, 'huge.jsonl');
    await writeFile(file, `{"a":1}\n"${'x'.repeat(17 * 1024 * 1024)}"\n{"b":2}\n`);
    const [page] = await all(jsonlReader(file).pages(null));
    expect(page!.records).toEqual([{ a: 1 }, null, { b: 2 }]);
    expect([...page!.problems!.values()]).toEqual(['line 2 is longer than 16777216 bytes']);
  });

  it('does not follow a symbolic link (a source must not read other files, such as the master key)', async () => {
    await writeFile(join(dir, 'secret.txt'), 'do not read me\n');
    await mkdir(join(dir, 'src'), { recursive: true });
    await symlink(join(dir, 'secret.txt'), join(dir, 'src', 'contacts.jsonl'));
    await expect(all(jsonlReader(join(dir, 'src', 'contacts.jsonl')).pages(null))).rejects.toThrow('is a symbolic link');
  });
});

describe('the provider reader', () => {
  const client = (connector: Connector) =>
    new ProviderClient(connector, 'https://api2.frontapp.com', createBearerAuth('tok_reader_test_123'), { timeoutMs: 2000, retries: 0 });
  const read = (stream: string) => {
    const connector = registry.get('front');
    return all(
      providerReader({
        client: client(connector),
        provider: 'Front',
        name: stream,
        stream: connector.manifest.streams![stream]!,
        since: undefined,
        onEvent: () => undefined,
      }).pages(null),
    );
  };

  it('resolves a relative next link against the page it came on', async () => {
    nock('https://api2.frontapp.com')
      .get('/tags?limit=100')
      .reply(200, { _results: [{ id: 1 }], _pagination: { next: '/tags?page_token=abc' } })
      .get('/tags?page_token=abc')
      .reply(200, { _results: [{ id: 2 }], _pagination: { next: null } });
    expect((await read('tags')).flatMap((p) => p.records)).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('continues a cursor with the same query: an incremental filter is kept on every page', async () => {
    const connector = registry.get('front');
    const stream = {
      path: '/items',
      recordSelector: '/data/items',
      primaryKey: 'id',
      scopes: [],
      pagination: {
        type: 'cursor' as const,
        next: '/data/next_cursor',
        nextIs: 'token' as const,
        tokenParam: 'cursor',
        limitParam: 'limit',
        pageSize: 2,
      },
      incremental: { cursorField: 'updated_at', param: 'q', template: '{"updated_after":{cursor}}' },
    };
    nock('https://api2.frontapp.com')
      .get('/items')
      .query({ limit: '2', q: '{"updated_after":5}' })
      .reply(200, { data: { items: [{ id: 1 }], next_cursor: 'c2' } })
      .get('/items')
      .query({ limit: '2', q: '{"updated_after":5}', cursor: 'c2' })
      .reply(200, { data: { items: [{ id: 2 }], next_cursor: null } });
    const pages = await all(
      providerReader({ client: client(connector), provider: 'Front', name: 'items', stream, since: 5, onEvent: () => undefined }).pages(
        null,
      ),
    );
    expect(pages.flatMap((p) => p.records)).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it("replays a company-host next link on a proxied credential's own origin, never sending the token there", async () => {
    const connector = registry.get('front');
    const proxied = new ProviderClient(connector, 'https://front-proxy.example', createBearerAuth('tok_reader_test_123'), {
      timeoutMs: 2000,
      retries: 0,
    });
    const trap = nock('https://yourcompany.api.frontapp.com').get('/contacts').query(true).reply(200, { _results: [] });
    nock('https://front-proxy.example')
      .get('/contacts?limit=100')
      .reply(200, { _results: [{ id: 1 }], _pagination: { next: 'https://yourCompany.api.frontapp.com/contacts?page_token=abc' } })
      .get('/contacts?page_token=abc')
      .reply(200, { _results: [{ id: 2 }], _pagination: { next: null } });
    const events: unknown[] = [];
    const pages = await all(
      providerReader({
        client: proxied,
        provider: 'Front',
        name: 'contacts',
        stream: connector.manifest.streams!.contacts!,
        since: undefined,
        onEvent: (e) => events.push(e),
      }).pages(null),
    );
    expect(pages.flatMap((p) => p.records)).toEqual([{ id: 1 }, { id: 2 }]);
    expect(events).toEqual([{ event: 'link_rewritten', stream: 'contacts', origin: 'https://yourcompany.api.frontapp.com' }]);
    expect(trap.isDone()).toBe(false);
  });

  it('asks Front for newer contacts in its query-object syntax, q[updated_after]=<seconds>, not q as JSON', async () => {
    const connector = registry.get('front');
    let asked: Record<string, unknown> | undefined;
    nock('https://api2.frontapp.com')
      .get('/contacts')
      .query((q) => {
        asked = q;
        return true;
      })
      .reply(200, { _results: [], _pagination: { next: null } });
    await all(
      providerReader({
        client: client(connector),
        provider: 'Front',
        name: 'contacts',
        stream: connector.manifest.streams!.contacts!,
        since: 1701292649.333,
        onEvent: () => undefined,
      }).pages(null),
    );
    expect(asked).toEqual({ limit: '100', 'q[updated_after]': '1701292649.333', sort_by: 'updated_at', sort_order: 'asc' });
  });

  it('stops instead of looping when the next link is the page itself', async () => {
    nock('https://api2.frontapp.com')
      .get('/tags?limit=100')
      .reply(200, { _results: [], _pagination: { next: 'https://api2.frontapp.com/tags?limit=100' } });
    await expect(read('tags')).rejects.toThrow('a next-page link to the same page');
  });
  it('stops with a named error when the next links cycle back to a page already read, after writing the pages before', async () => {
    nock('https://api2.frontapp.com')
      .get('/tags?limit=100')
      .reply(200, { _results: [{ id: 1 }], _pagination: { next: 'https://api2.frontapp.com/tags?page_token=b' } })
      .get('/tags?page_token=b')
      .reply(200, { _results: [{ id: 2 }], _pagination: { next: 'https://api2.frontapp.com/tags?limit=100' } });
    const seen: Page[] = [];
    const connector = registry.get('front');
    const reading = (async () => {
      for await (const page of providerReader({
        client: client(connector),
        provider: 'Front',
        name: 'tags',
        stream: connector.manifest.streams!.tags!,
        since: undefined,
        onEvent: () => undefined,
      }).pages(null))
        seen.push(page);
    })();
    await expect(reading).rejects.toMatchObject({
      code: 'pagination_stuck',
      exitCode: 4,
      message: expect.stringContaining(
        "Front's tags pagination does not advance: it sent a next-page link to a page already read (/tags?limit=100)",
      ),
    });
    expect(seen.flatMap((p) => p.records)).toEqual([{ id: 1 }]);
  });
});

describe("page-number pagination (Frontegg's users: _offset is a page number, 0 first)", () => {
  const FRONTEGG = 'https://api.frontegg.com';
  const readUsers = (from: string | null = null) => {
    const connector = registry.get('frontegg');
    const client = new ProviderClient(connector, FRONTEGG, createBearerAuth('fe_at_reader_test_123'), { timeoutMs: 2000, retries: 0 });
    return all(
      providerReader({
        client,
        provider: 'Frontegg',
        name: 'users',
        stream: connector.manifest.streams!.users!,
        since: undefined,
        onEvent: () => undefined,
      }).pages(from),
    );
  };
  const users = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: `u${from + i}` }));
  const links = (next: string) => ({ next, prev: '', first: '', last: '' });

  it('asks for page 0, 1, 2 and stops at the short page, never following the link it does not need', async () => {
    const scope = nock(FRONTEGG)
      .get('/identity/resources/users/v3')
      .query({ _limit: '100', _offset: '0' })
      .reply(200, { items: users(0, 100), _links: links('somewhere-else'), _metadata: { totalItems: 230, totalPages: 3 } })
      .get('/identity/resources/users/v3')
      .query({ _limit: '100', _offset: '1' })
      .reply(200, { items: users(100, 100), _links: links('somewhere-else'), _metadata: { totalItems: 230, totalPages: 3 } })
      .get('/identity/resources/users/v3')
      .query({ _limit: '100', _offset: '2' })
      .reply(200, { items: users(200, 30), _links: links('somewhere-else'), _metadata: { totalItems: 230, totalPages: 3 } });
    const pages = await readUsers();
    expect(pages.flatMap((p) => p.records)).toEqual(users(0, 230));
    expect(pages.map((p) => p.next && new URL(p.next).searchParams.get('_offset'))).toEqual(['1', '2', null]);
    scope.done();
  });

  it('stops after a full page whose next link is empty, without asking for an empty page', async () => {
    const scope = nock(FRONTEGG)
      .get('/identity/resources/users/v3')
      .query({ _limit: '100', _offset: '0' })
      .reply(200, { items: users(0, 100), _links: links('/identity/resources/users/v3?_offset=1') })
      .get('/identity/resources/users/v3')
      .query({ _limit: '100', _offset: '1' })
      .reply(200, { items: users(100, 100), _links: links('') });
    expect((await readUsers()).flatMap((p) => p.records)).toHaveLength(200);
    scope.done();
  });

  it('stops at an empty page, and resumes from a checkpointed page number', async () => {
    const scope = nock(FRONTEGG)
      .get('/identity/resources/users/v3')
      .query({ _limit: '100', _offset: '3' })
      .reply(200, { items: users(300, 100), _links: links('x') })
      .get('/identity/resources/users/v3')
      .query({ _limit: '100', _offset: '4' })
      .reply(200, { items: [], _links: links('x') });
    const pages = await readUsers(`${FRONTEGG}/identity/resources/users/v3?_limit=100&_offset=3`);
    expect(pages.map((p) => p.records.length)).toEqual([100, 0]);
    expect(pages.at(-1)!.next).toBeNull();
    scope.done();
  });
});

describe('the token exchange', () => {
  const frontegg = () => registry.get('frontegg').manifest.auth.exchange!;
  const auth = () =>
    createTokenExchangeAuth(
      frontegg(),
      { clientId: 'client-1', secret: 'the-secret-key' },
      { baseUrl: 'https://api.frontegg.com', provider: 'Frontegg', envelope: { message: '/errors/0' }, timeoutMs: 2000 },
      'secret',
    );

  it('caps an absurd lifetime at a day instead of failing', async () => {
    nock('https://api.frontegg.com').post('/identity/resources/auth/v2/api-token').reply(200, { access_token: 'at_1', expires_in: 1e13 });
    const strategy = auth();
    expect(await strategy.authorization()).toBe('Bearer at_1');
    expect(strategy.expiresAt!()! - Date.now()).toBeLessThanOrEqual(86_400_000);
  });

  it('treats a token with a line break as the provider answering unexpectedly, not as bad input', async () => {
    nock('https://api.frontegg.com')
      .post('/identity/resources/auth/v2/api-token')
      .reply(200, { access_token: 'at\r\nX-Evil: 1', expires_in: 60 });
    await expect(auth().authorization()).rejects.toMatchObject({ code: 'provider_unexpected', exitCode: 4 });
  });

  it('sends the secret only in the exchange body, never as a header', async () => {
    const scope = nock('https://api.frontegg.com', { badheaders: ['authorization'] })
      .post('/identity/resources/auth/v2/api-token', { clientId: 'client-1', secret: 'the-secret-key' })
      .reply(200, { accessToken: 'at_2', expiresIn: 60 });
    expect(await auth().authorization()).toBe('Bearer at_2');
    scope.done();
  });
});

describe('the provider writer', () => {
  it('counts a 2xx other than the documented one as landed, after exactly one POST', async () => {
    const connector = registry.get('front');
    const operation = connector.operations.get('tags.create')!;
    const keyv = new Keyv();
    const ledger = new Collection<LedgerEntry>({ keyv, shown: 'memory' }, 'ledger:', (v) => v as LedgerEntry);
    const scope = nock('https://api2.frontapp.com').post('/tags', { name: 'vip' }).once().reply(200, { id: 'tag_1' });
    const writer = new ProviderWriter({
      client: new ProviderClient(connector, 'https://api2.frontapp.com', createBearerAuth('tok_writer_test_123'), {
        timeoutMs: 2000,
        retries: 0,
      }),
      provider: 'Front',
      stream: 'tags',
      operationName: 'tags.create',
      operation: operation.config,
      validate: operation.validate,
      mapping: undefined,
      params: {},
      ledger,
      ledgerScope: 'dst_test',
      reject: async () => undefined,
    });
    expect(await writer.write([{ name: 'vip' }], [1])).toEqual({ sent: 1, rejected: 0, skipped: 0 });
    expect(await writer.write([{ name: 'vip' }], [1])).toEqual({ sent: 0, rejected: 0, skipped: 1 });
    scope.done();
  });
});
