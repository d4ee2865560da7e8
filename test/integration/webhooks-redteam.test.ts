import { lookup } from 'node:dns';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { withAccess } from '../../src/access/access.js';
import { OutboundPolicy, type Resolver } from '../../src/http/outbound-policy.js';
import { MAX_ENDPOINTS } from '../../src/webhooks/webhook-endpoints.js';
import { API_TOKEN, type ApiUnderTest, callApi, startApi } from '../helpers/api-server.js';
import { connectCalls } from '../helpers/connect-api.js';
import type { JsonBody } from '../helpers/json-body.js';
import { allBytes } from '../helpers/temp-home.js';
import { type Receiver, startReceiver } from '../helpers/webhook-receiver.js';

// Issue 26, red team: the webhook surface attacked from outside, over a real server's HTTP API,
// as a hostile tenant (a workspace's admin token), a connect session's end user (its bearer), and
// a viewer or editor. Each test is an attack and what must hold against it: no request reaches this
// machine or its networks for a tenant, no workspace hears or touches another's, no secret leaves.

/** A name the test's resolver answers with loopback: a public-looking host that rebinds to 127.0.0.1. */
const REBOUND = 'hooks.rebind.example';

/** Counts every TCP connection made to it: where an attack must never land (loopback). */
async function trap(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server: TcpServer = createTcpServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A Front stand-in whose refusal quotes the Authorization it was sent (a provider careless with tokens). */
async function echoingProvider(good: Set<string>) {
  const server: Server = createServer((request, response) => {
    const authorization = request.headers.authorization ?? '';
    const token = /^Bearer (.+)$/.exec(authorization)?.[1] ?? '';
    response.setHeader('content-type', 'application/json');
    if (request.url === '/me' && good.has(token)) {
      response.end(JSON.stringify({ _links: {}, id: 'cmp_1', name: 'Acme' }));
      return;
    }
    response.statusCode = 401;
    response.end(
      JSON.stringify({
        _error: { status: 401, title: 'Unauthenticated', message: `token ${token} refused (you sent "${authorization}")` },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let api: ApiUnderTest;
let hook: Receiver;
let sink: Awaited<ReturnType<typeof trap>>;
let provider: Awaited<ReturnType<typeof echoingProvider>>;
const goodTokens = new Set<string>();
const tokens: Record<string, string> = {};
const secrets: string[] = [];
const output: string[] = [];
const writes = { out: process.stdout.write, err: process.stderr.write };
const connect = connectCalls(() => api);

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: JsonBody }> {
  return callApi(api.url, method, `/api/v1${path}`, { token, ...(body !== undefined ? { body } : {}) });
}

/** An endpoint the tenant `who` registers (answering its id), its secret kept to look for later. */
async function register(who: string, url: string, events: string[] = ['sync.failed']): Promise<string> {
  const created = await call('POST', '/webhooks', tokens[who]!, { url, events });
  expect([url, created.status]).toEqual([url, 201]);
  secrets.push(created.body.secret);
  return created.body.id;
}

beforeAll(async () => {
  hook = await startReceiver();
  sink = await trap();
  provider = await echoingProvider(goodTokens);
  // The test's resolver: REBOUND is loopback (DNS rebinding), every other name as the system says (/etc/hosts: vm, runsc).
  const resolve: Resolver = (hostname, options, callback) =>
    hostname === REBOUND ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : lookup(hostname, options, callback);
  const outbound = new OutboundPolicy({ allow: [`webhooks=${hook.origin}`, `front=${provider.url}`], resolve });
  api = await startApi({
    open: {
      outbound,
      env: { CREDPORT_HTTP_RETRIES: '0', CREDPORT_HTTP_TIMEOUT_MS: '2000', CREDPORT_WEBHOOK_TIMEOUT_MS: '1000' },
    },
  });
  for (const [workspace, role] of [
    ['acme', 'admin'],
    ['acme', 'editor'],
    ['acme', 'viewer'],
    ['other', 'admin'],
  ] as const) {
    tokens[`${workspace}-${role}`] = await connect.tokenOf(workspace, role);
  }
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    output.push(String(chunk));
    return (writes.out as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    output.push(String(chunk));
    return (writes.err as (...a: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
});

afterAll(async () => {
  process.stdout.write = writes.out;
  process.stderr.write = writes.err;
  await api?.close();
  await Promise.all([hook?.close(), sink?.close(), provider?.close()]);
});

describe('SSRF: a tenant endpoint never reaches this machine or its networks', () => {
  it('refuses at registration every spelling of loopback, private, link-local and metadata addresses, and credentials in the URL', async () => {
    const hookPort = Number(new URL(hook.origin).port);
    const refusals: Record<string, number> = {
      'https://[::ffff:127.0.0.1]/h': 403,
      'https://[::1]/h': 403,
      'https://[::]/h': 403,
      'https://[::127.0.0.1]/h': 403,
      'https://[::ffff:0:7f00:1]/h': 403,
      'https://[64:ff9b::a9fe:a9fe]/h': 403,
      'https://[2002:7f00:1::]/h': 403,
      'https://[fe80::1]/h': 403,
      'https://[fd00:ec2::254]/h': 403,
      'https://2130706433/h': 403,
      'https://0x7f.1/h': 403,
      'https://017700000001/h': 403,
      'https://0/h': 403,
      'https://169.254.169.254/latest/meta-data': 403,
      'https://100.100.100.200/h': 403,
      'https://localhost./h': 403,
      'https://metadata.localhost/h': 403,
      'https://%6c%6fcalhost/h': 403,
      // The operator's allowed origin on another port, scheme or name is not the allowed origin.
      [`http://127.0.0.1:${hookPort + 1}/h`]: 403,
      [`https://127.0.0.1:${hookPort}/h`]: 403,
      [`http://vm:${hookPort}/h`]: 403,
      'https://user:pass@hooks.example.com/h': 400,
      'https://:pass@hooks.example.com/h': 400,
      [`http://user@127.0.0.1:${hookPort}/h`]: 400,
      'https://hooks.example.com/h#frag': 400,
      'file:///etc/passwd': 400,
      'gopher://127.0.0.1:6379/_INFO': 400,
    };
    for (const [url, status] of Object.entries(refusals)) {
      const refused = await call('POST', '/webhooks', tokens['acme-admin']!, { url, events: ['sync.failed'] });
      expect([url, refused.status, refused.body.field]).toEqual([url, status, '/url']);
    }
    expect((await call('GET', '/webhooks', tokens['acme-admin']!)).body).toEqual([]);
  });

  it('refuses when connecting a name that resolves to loopback (DNS rebinding, /etc/hosts), on test and in delivery, and after a PATCH', async () => {
    const id = await register('acme-admin', `https://${REBOUND}:${sink.port}/in`, ['credential.created', 'sync.failed']);
    const tested = await call('POST', `/webhooks/${id}/test`, tokens['acme-admin']!);
    expect(tested.status).toBe(200);
    expect(tested.body).toMatchObject({ delivered: false, error: expect.stringMatching(/outbound policy refuses .*resolves to/) });
    expect(tested.body).not.toHaveProperty('status');

    // A public-looking name now, changed by PATCH to a name of this machine (vm is 127.0.0.1 in /etc/hosts).
    const patched = await call('PATCH', `/webhooks/${id}`, tokens['acme-admin']!, { url: `https://vm:${sink.port}/in` });
    expect(patched.status).toBe(200);
    expect((await call('POST', `/webhooks/${id}/test`, tokens['acme-admin']!)).body).toMatchObject({
      delivered: false,
      error: expect.stringMatching(/outbound policy refuses vm: it resolves to/),
    });

    // The delivery loop's attempts go the same guarded way.
    await api.credport.outbox.publish('acme', 'sync.failed', { workspace: 'acme', sync: { sourceId: 's', destinationId: 'd' } });
    await api.credport.deliverWebhooksNow();
    const deliveries = await call('GET', `/webhooks/${id}/deliveries`, tokens['acme-admin']!);
    expect(deliveries.body).toHaveLength(1);
    expect(deliveries.body[0].attempts[0]).toMatchObject({ delivered: false, error: expect.stringMatching(/outbound policy refuses vm/) });
    expect(sink.connections()).toBe(0);
    await call('DELETE', `/webhooks/${id}`, tokens['acme-admin']!);
  });

  it('does not follow a 3xx to loopback, and bounds a receiver that streams without end or never answers', async () => {
    const id = await register('acme-admin', `${hook.origin}/in`);
    hook.behave(() => ({ status: 302, location: `http://127.0.0.1:${sink.port}/admin` }));
    expect((await call('POST', `/webhooks/${id}/test`, tokens['acme-admin']!)).body).toMatchObject({
      delivered: false,
      status: 302,
      error: expect.stringMatching(/redirects are not followed/),
    });
    expect(sink.connections()).toBe(0);

    hook.behave(() => 'hang');
    const started = Date.now();
    expect((await call('POST', `/webhooks/${id}/test`, tokens['acme-admin']!)).body).toMatchObject({
      delivered: false,
      error: 'the receiver did not answer within 1000 ms',
    });
    expect(Date.now() - started).toBeLessThan(5000);
    hook.behave(() => ({ status: 204 }));

    // A receiver that answers 200 and then streams forever: read up to a bound, then dropped.
    const endless = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = `\u001b[31m${'A'.repeat(1000)}`;
      const more = () => {
        while (response.write(chunk));
        response.once('drain', more);
      };
      more();
      response.on('close', () => response.removeAllListeners('drain'));
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(endless.address() as { port: number }).port}`;
    api.credport.outbound.allow(`webhooks=${origin}`);
    try {
      const streaming = await register('acme-admin', `${origin}/in`);
      const before = Date.now();
      const answer = await call('POST', `/webhooks/${streaming}/test`, tokens['acme-admin']!);
      expect(answer.body).toMatchObject({ delivered: true, status: 200 });
      expect(answer.body.response.length).toBeLessThanOrEqual(200);
      // The receiver's terminal escapes are not kept.
      expect(answer.body.response).not.toMatch(/\u001b/);
      expect(Date.now() - before).toBeLessThan(5000);
    } finally {
      endless.closeAllConnections();
      await new Promise<void>((resolve) => endless.close(() => resolve()));
    }
  });
});

describe('cross-tenant: a workspace neither hears nor touches another', () => {
  it("answers 404 for another workspace's endpoint on every route, deliveries and redeliver included", async () => {
    const id = await register('acme-admin', `${hook.origin}/acme`);
    await api.credport.outbox.publish('acme', 'sync.failed', { workspace: 'acme', sync: { sourceId: 's', destinationId: 'd' } });
    await api.credport.deliverWebhooksNow();
    const [delivery] = (await call('GET', `/webhooks/${id}/deliveries`, tokens['acme-admin']!)).body;
    expect(delivery).toMatchObject({ status: 'delivered' });
    const other = tokens['other-admin']!;
    const answers = [
      (await call('GET', `/webhooks/${id}`, other)).status,
      (await call('PATCH', `/webhooks/${id}`, other, { url: 'https://hooks.example.com/stolen' })).status,
      (await call('POST', `/webhooks/${id}/test`, other)).status,
      (await call('POST', `/webhooks/${id}/rotate-secret`, other)).status,
      (await call('GET', `/webhooks/${id}/deliveries`, other)).status,
      (await call('POST', `/webhooks/${id}/deliveries/${delivery.id}/redeliver`, other)).status,
      (await call('DELETE', `/webhooks/${id}`, other)).status,
    ];
    expect(answers).toEqual([404, 404, 404, 404, 404, 404, 404]);
    // Another workspace's delivery id under one's own endpoint is not found either (the key is the endpoint's).
    const mine = await register('other-admin', `${hook.origin}/other`);
    expect((await call('POST', `/webhooks/${mine}/deliveries/${delivery.id}/redeliver`, other)).status).toBe(404);
    expect((await call('GET', `/webhooks/${id}`, tokens['acme-admin']!)).body.url).toBe(`${hook.origin}/acme`);
  });

  it("sends a credential made in one workspace to that workspace's endpoints only, never to another's subscribed to everything", async () => {
    const every = ['credential.created', 'credential.verified', 'credential.invalidated', 'credential.recovered', 'credential.rotated'];
    const all = [...every, 'credential.deleted', 'connect.session.completed', 'sync.succeeded', 'sync.failed'];
    const acmeHook = await register('acme-admin', `${hook.origin}/acme-all`, all);
    const otherHook = await register('other-admin', `${hook.origin}/other-all`, all);
    const good = 'front_token_0123456789abcdefghij';
    goodTokens.add(good);
    const added = await call('POST', '/credentials', tokens['acme-editor']!, {
      connector: 'front',
      baseUrl: provider.url,
      values: { name: 'Support', apiKey: good },
    });
    expect(added.status).toBe(201);
    await api.credport.deliverWebhooksNow();
    const acmeSaw = (await call('GET', `/webhooks/${acmeHook}/deliveries`, tokens['acme-admin']!)).body;
    expect(acmeSaw.map((d: JsonBody) => [d.type, d.status])).toEqual([['credential.created', 'delivered']]);
    expect((await call('GET', `/webhooks/${otherHook}/deliveries`, tokens['other-admin']!)).body).toEqual([]);
    const paths = hook.received.map((r) => (JSON.parse(r.body) as { data: { credential?: { id: string } } }).data.credential?.id);
    expect(paths).toContain(added.body.id);
    expect(hook.received.some((r) => r.body.includes(added.body.id) && r.headers['webhook-id'] && r.body.includes('"other"'))).toBe(false);
  });
});

describe('who may call: a connect bearer, a viewer and an editor are refused on every webhook route', () => {
  it('refuses them on deliveries and redeliver as on the rest', async () => {
    const id = await register('acme-admin', `${hook.origin}/who`);
    const msg = 'msg_00000000000000000000000000';
    const { bearer } = await connect.bearerFor(tokens['acme-editor']!);
    const routes: [string, string, unknown?][] = [
      ['GET', '/webhooks'],
      ['POST', '/webhooks', { url: `${hook.origin}/x`, events: ['sync.failed'] }],
      ['GET', `/webhooks/${id}`],
      ['PATCH', `/webhooks/${id}`, { enabled: false }],
      ['DELETE', `/webhooks/${id}`],
      ['POST', `/webhooks/${id}/rotate-secret`],
      ['POST', `/webhooks/${id}/test`],
      ['GET', `/webhooks/${id}/deliveries`],
      ['POST', `/webhooks/${id}/deliveries/${msg}/redeliver`],
    ];
    for (const token of [bearer, tokens['acme-viewer']!, tokens['acme-editor']!]) {
      for (const [method, path, body] of routes) {
        const answer = await call(method, path, token, body);
        expect([method, path, answer.status]).toEqual([method, path, 403]);
      }
    }
    expect((await call('GET', `/webhooks/${id}`, tokens['acme-admin']!)).body).toMatchObject({ enabled: true });
  });
});

describe('leaks: no secret of ours in anything a receiver, a caller or a log sees', () => {
  it("keeps a credential's token out of credential.invalidated when the provider quotes it in its refusal", async () => {
    const id = await register('acme-admin', `${hook.origin}/invalid`, ['credential.invalidated']);
    const token = 'front_token_quoted_by_provider_0123456789';
    goodTokens.add(token);
    const added = await call('POST', '/credentials', tokens['acme-editor']!, {
      connector: 'front',
      baseUrl: provider.url,
      values: { name: 'Quoted', apiKey: token },
    });
    expect(added.status).toBe(201);
    goodTokens.delete(token);
    // The test is refused (422); the credential is invalid now, with the provider's words on its tile.
    expect((await call('POST', `/credentials/${added.body.id}/test`, tokens['acme-editor']!)).status).toBe(422);
    expect((await call('GET', `/credentials/${added.body.id}`, tokens['acme-editor']!)).body).toMatchObject({ status: 'invalid' });
    await api.credport.deliverWebhooksNow();
    const sent = hook.received.filter((r) => r.body.includes('credential.invalidated'));
    // Here and at the endpoint an earlier test subscribed to every event.
    expect(sent.length).toBeGreaterThan(0);
    for (const { body } of sent) {
      expect((JSON.parse(body) as { data: { credential: { invalidReason: string } } }).data.credential.invalidReason).toMatch(
        /token \*\*\* refused/,
      );
      for (let i = 0; i + 8 <= token.length; i++) expect(body.includes(token.slice(i, i + 8))).toBe(false);
    }
    const listed = JSON.stringify((await call('GET', `/webhooks/${id}/deliveries`, tokens['acme-admin']!)).body);
    expect(listed.includes(token.slice(0, 8))).toBe(false);
  });

  it("stores of a receiver's echo only what it was sent: the body, no secret", async () => {
    const id = await register('acme-admin', `${hook.origin}/echo`);
    const secret = secrets.at(-1)!;
    hook.behave((r) => ({ status: 400, text: `${JSON.stringify(r.headers)} ${r.body}` }));
    const tested = await call('POST', `/webhooks/${id}/test`, tokens['acme-admin']!);
    hook.behave(() => ({ status: 204 }));
    expect(tested.body).toMatchObject({ delivered: false, status: 400 });
    expect(tested.body.response.includes(secret.slice('whsec_'.length, 'whsec_'.length + 8))).toBe(false);
  });

  it('holds no whsec_ secret or credential token in a listing, delivery, audit event, error, log, inspected error or the store', async () => {
    const texts: Record<string, string> = {
      listing: JSON.stringify((await call('GET', '/webhooks', tokens['acme-admin']!)).body),
      audit: JSON.stringify((await call('GET', '/audit', API_TOKEN)).body),
      output: output.join('\n'),
    };
    for (const endpoint of (await call('GET', '/webhooks', tokens['acme-admin']!)).body as JsonBody[])
      texts[`deliveries ${endpoint.id}`] = JSON.stringify(
        (await call('GET', `/webhooks/${endpoint.id}/deliveries`, tokens['acme-admin']!)).body,
      );
    const error = await withAccess({ workspace: 'acme', role: 'admin' }, () =>
      api.credport.webhooks.update('whe_0000000000000000', { url: 'http://10.0.0.1/' }).catch((e: unknown) => e),
    );
    texts.inspected = inspect(error, { depth: 10 });
    const store = await allBytes(api.home);
    expect(secrets.length).toBeGreaterThan(3);
    for (const secret of secrets) {
      const raw = secret.slice('whsec_'.length);
      for (const [where, text] of Object.entries(texts)) expect([where, text.includes(raw)]).toEqual([where, false]);
      expect(store.includes(raw)).toBe(false);
      expect(store.includes(Buffer.from(raw, 'base64'))).toBe(false);
    }
  });
});

describe('abuse: a tenant cannot make the server store or show what it should not', () => {
  it('refuses an endpoint beyond MAX_ENDPOINTS per workspace: every event is a POST per endpoint, and lanes are shared', async () => {
    // Without a bound, one workspace with 10,000 endpoints turns each of its events into 10,000 signed POSTs
    // (an amplifier aimed at any public host) and fills every delivery lane, so other workspaces' events wait.
    const tenant = tokens['other-admin']!;
    const have = ((await call('GET', '/webhooks?limit=500', tenant)).body as JsonBody[]).length;
    for (let i = have; i < MAX_ENDPOINTS; i++)
      expect((await call('POST', '/webhooks', tenant, { url: `https://hooks.example.com/${i}`, events: ['sync.failed'] })).status).toBe(
        201,
      );
    const refused = await call('POST', '/webhooks', tenant, { url: 'https://hooks.example.com/one-more', events: ['sync.failed'] });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'limit_reached', detail: expect.stringMatching(/at most 20 webhook endpoints/) });
    expect(((await call('GET', '/webhooks?limit=500', tenant)).body as JsonBody[]).length).toBe(MAX_ENDPOINTS);
    // Another workspace is not held back by this one's count; one deleted makes room again.
    const acme = await call('POST', '/webhooks', tokens['acme-admin']!, { url: 'https://hooks.example.com/acme', events: ['sync.failed'] });
    expect(acme.status).toBe(201);
    await call('DELETE', `/webhooks/${acme.body.id}`, tokens['acme-admin']!);
    const [oldest] = (await call('GET', '/webhooks?limit=1', tenant)).body as JsonBody[];
    await call('DELETE', `/webhooks/${oldest.id}`, tenant);
    expect((await call('POST', '/webhooks', tenant, { url: 'https://hooks.example.com/again', events: ['sync.failed'] })).status).toBe(201);
  });

  it('refuses a 100 KB URL, control characters in a description, an event type outside the enum', async () => {
    const tenant = tokens['acme-admin']!;
    const long = await call('POST', '/webhooks', tenant, {
      url: `https://hooks.example.com/${'a'.repeat(100_000)}`,
      events: ['sync.failed'],
    });
    // Refused by the body limit (413) before the schema; a URL over the schema's 2000 characters is 400.
    expect(long.status).toBe(413);
    const over = await call('POST', '/webhooks', tenant, { url: `https://hooks.example.com/${'a'.repeat(2000)}`, events: ['sync.failed'] });
    expect([over.status, over.body.field]).toEqual([400, '/url']);
    for (const description of ['\u001b[2J\u001b[31mowned', 'line\nbreak', 'bidi \u202e', 'bell \u0007']) {
      const answer = await call('POST', '/webhooks', tenant, { url: 'https://hooks.example.com/d', events: ['sync.failed'], description });
      expect([JSON.stringify(description), answer.status]).toEqual([JSON.stringify(description), 400]);
    }
    for (const events of [['webhook.test'], ['credential.*'], ['__proto__'], ['sync.failed', 'sync.failed']]) {
      const answer = await call('POST', '/webhooks', tenant, { url: 'https://hooks.example.com/e', events });
      expect([events, answer.status]).toEqual([events, 400]);
    }
    // Terminal escapes in a URL are percent-encoded by the URL parser: nothing raw is kept to be printed.
    const escaped = await call('POST', '/webhooks', tenant, {
      url: 'https://hooks.example.com/\u001b[31m/\u202e',
      events: ['sync.failed'],
    });
    expect(escaped.status).toBe(201);
    expect(escaped.body.url).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    secrets.push(escaped.body.secret);
    await call('DELETE', `/webhooks/${escaped.body.id}`, tenant);
  });

  it('will not replay a delivered delivery with redeliver, nor page one endpoint with a cursor into another', async () => {
    const one = await register('acme-admin', `${hook.origin}/replay-1`);
    const two = await register('acme-admin', `${hook.origin}/replay-2`);
    for (let i = 0; i < 3; i++)
      await api.credport.outbox.publish('acme', 'sync.failed', { workspace: 'acme', sync: { sourceId: `s${i}`, destinationId: 'd' } });
    await api.credport.deliverWebhooksNow();
    const [first] = (await call('GET', `/webhooks/${one}/deliveries`, tokens['acme-admin']!)).body;
    const replay = await call('POST', `/webhooks/${one}/deliveries/${first.id}/redeliver`, tokens['acme-admin']!);
    expect(replay).toMatchObject({ status: 400, body: { code: 'delivery_not_failed' } });
    const page = await fetch(`${api.url}/api/v1/webhooks/${one}/deliveries?limit=1`, {
      headers: { authorization: `Bearer ${tokens['acme-admin']}` },
    });
    const next = /<([^>]+)>; rel="next"/.exec(page.headers.get('link') ?? '')?.[1];
    expect(next).toBeDefined();
    const cursor = new URL(next!, api.url).searchParams.get('cursor')!;
    const crossed = await call('GET', `/webhooks/${two}/deliveries?cursor=${encodeURIComponent(cursor)}`, tokens['acme-admin']!);
    // A cursor is a position in time, not a key: in another endpoint it lists that endpoint's own deliveries only.
    expect(crossed.status).toBe(200);
    expect((crossed.body as JsonBody[]).every((d) => d.endpointId === two)).toBe(true);
  });
});
