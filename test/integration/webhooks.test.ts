import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { withAccess } from '../../src/access/access.js';
import { openCredport } from '../../src/open-credport.js';
import { API_TOKEN, type ApiUnderTest, startApi } from '../helpers/api-server.js';
import type { JsonBody } from '../helpers/json-body.js';
import { allBytes, removeHome, tempHome } from '../helpers/temp-home.js';

// Issue 26, first slice: a workspace registers webhook endpoints and sends each a signed test
// delivery, which a receiver on loopback verifies with the published `standardwebhooks` package
// (never with credport's own code). The operator allows the receivers' origin (webhooks=<origin>);
// a tenant's own loopback, private or plain-HTTP URL is refused.

interface Received {
  body: string;
  headers: IncomingHttpHeaders;
}

/** A receiver on loopback: records each POST, answers `answer` (a status, and a Location for a redirect). */
async function receiver(answer: { status: number; location?: string; text?: string } = { status: 204 }) {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: request.headers });
      response.writeHead(answer.status, answer.location ? { location: answer.location } : {});
      response.end(answer.text ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    answer,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Receiver = Awaited<ReturnType<typeof receiver>>;

let api: ApiUnderTest;
let hook: Receiver;
let elsewhere: Receiver;
let redirecting: Receiver;
const tokens: Record<string, string> = {};
const output: string[] = [];
const writes = { out: process.stdout.write, err: process.stderr.write };

async function call(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: JsonBody; text: string }> {
  const response = await fetch(`${api.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, text, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  api = await startApi();
  hook = await receiver();
  elsewhere = await receiver();
  redirecting = await receiver({ status: 307, location: `${elsewhere.origin}/stolen` });
  // The operator allows the receivers (what `serve --allow-origin webhooks=<origin>` does).
  for (const r of [hook, elsewhere, redirecting]) api.credport.outbound.allow(`webhooks=${r.origin}`);
  for (const [workspace, role] of [
    ['acme', 'admin'],
    ['acme', 'editor'],
    ['acme', 'viewer'],
    ['other', 'admin'],
  ] as const) {
    const made = await withAccess({ workspace, role: 'admin' }, () => api.credport.tokens.create({ name: `${workspace} ${role}`, role }));
    tokens[`${workspace}-${role}`] = made.token!;
  }
  // Every line the process prints while the tests run: the secret must be in none of them.
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    output.push(String(chunk));
    return (writes.out as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    output.push(String(chunk));
    return (writes.err as (...a: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  process.on('warning', (warning) => output.push(`${warning.name}: ${warning.message}`));
});
afterAll(async () => {
  process.stdout.write = writes.out;
  process.stderr.write = writes.err;
  await Promise.all([hook?.close(), elsewhere?.close(), redirecting?.close()]);
  await api?.close();
});

/** The receiver's deliveries since `from`, each verified by the published library with `secret`. */
function verified(secret: string, delivery: Received): unknown {
  return new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>);
}

describe('webhook endpoints and their signed test delivery', () => {
  const secrets: string[] = [];
  let id = '';

  it('registers an endpoint (its secret shown once) whose test delivery the receiver verifies with standardwebhooks', async () => {
    const created = await call('POST', '/webhooks', tokens['acme-admin']!, {
      url: `${hook.origin}/hooks?team=7`,
      events: ['credential.invalidated', 'sync.failed'],
      description: 'ops alerts',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      url: `${hook.origin}/hooks?team=7`,
      events: ['credential.invalidated', 'sync.failed'],
      enabled: true,
    });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    id = created.body.id;
    secrets.push(created.body.secret);

    const tested = await call('POST', `/webhooks/${id}/test`, tokens['acme-admin']!);
    expect(tested.status).toBe(200);
    expect(tested.body).toMatchObject({ delivered: true, status: 204 });
    expect(hook.received).toHaveLength(1);
    const delivery = hook.received[0]!;
    expect(delivery.headers['webhook-id']).toBe(tested.body.webhookId);
    expect(delivery.headers['content-type']).toBe('application/json');
    const message = verified(created.body.secret, delivery) as JsonBody;
    expect(message).toMatchObject({ type: 'webhook.test', data: { endpointId: id } });
    expect(Date.parse(message.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    // A body changed on the way, or another endpoint's secret, fails.
    expect(() => verified(created.body.secret, { ...delivery, body: delivery.body.replace('webhook.test', 'webhook.tset') })).toThrow();
    const second = await call('POST', '/webhooks', tokens['acme-admin']!, { url: `${elsewhere.origin}/x`, events: ['sync.failed'] });
    expect(() => verified(second.body.secret, delivery)).toThrow();
    secrets.push(second.body.secret);
    expect((await call('DELETE', `/webhooks/${second.body.id}`, tokens['acme-admin']!)).status).toBe(200);
  });

  it('after rotate-secret both the old and the new secret verify (two signatures), for a day', async () => {
    const rotated = await call('POST', `/webhooks/${id}/rotate-secret`, tokens['acme-admin']!);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(secrets[0]);
    expect(rotated.body.secretRotatedAt).toEqual(expect.any(String));
    secrets.push(rotated.body.secret);
    hook.received.length = 0;
    expect((await call('POST', `/webhooks/${id}/test`, tokens['acme-admin']!)).body.delivered).toBe(true);
    const delivery = hook.received[0]!;
    expect(String(delivery.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verified(secrets[0]!, delivery)).toMatchObject({ type: 'webhook.test' });
    expect(verified(rotated.body.secret, delivery)).toMatchObject({ type: 'webhook.test' });

    // A day on, the old secret signs no more.
    const realNow = Date.now;
    Date.now = () => realNow() + 24 * 3600_000 + 60_000;
    try {
      hook.received.length = 0;
      expect((await call('POST', `/webhooks/${id}/test`, tokens['acme-admin']!)).body.delivered).toBe(true);
      const later = hook.received[0]!;
      expect(String(later.headers['webhook-signature']).split(' ')).toHaveLength(1);
      expect(verified(rotated.body.secret, later)).toMatchObject({ type: 'webhook.test' });
      expect(() => verified(secrets[0]!, later)).toThrow();
    } finally {
      Date.now = realNow;
    }
  });

  it('lists, reads and changes endpoints, never showing a secret', async () => {
    const listed = await call('GET', '/webhooks?limit=1', tokens['acme-admin']!);
    expect(listed.status).toBe(200);
    expect(listed.body.map((e: JsonBody) => e.id)).toEqual([id]);
    const changed = await call('PATCH', `/webhooks/${id}`, tokens['acme-admin']!, { enabled: false, events: ['credential.deleted'] });
    expect(changed.body).toMatchObject({ enabled: false, events: ['credential.deleted'] });
    const shown = await call('GET', `/webhooks/${id}`, tokens['acme-admin']!);
    expect(shown.body).toEqual(changed.body);
    expect(Object.keys(shown.body).sort()).toEqual(
      ['createdAt', 'description', 'enabled', 'events', 'id', 'secretRotatedAt', 'updatedAt', 'url'].sort(),
    );
    // The library's answer too: the routes' schemas are not what keeps the secret out.
    const [fromLibrary] = await withAccess({ workspace: 'acme', role: 'admin' }, () => api.credport.webhooks.list());
    expect(Object.keys(fromLibrary!).sort()).toEqual(Object.keys(shown.body).sort());
    expect(Object.keys(await withAccess({ workspace: 'acme', role: 'admin' }, () => api.credport.webhooks.get(id))).sort()).toEqual(
      Object.keys(shown.body).sort(),
    );
    expect(await call('PATCH', `/webhooks/${id}`, tokens['acme-admin']!, { events: ['no.such.event'] })).toMatchObject({ status: 400 });
    expect(await call('POST', '/webhooks', tokens['acme-admin']!, { url: `${hook.origin}/`, events: [] })).toMatchObject({ status: 400 });
  });

  it("refuses a tenant's loopback, private and plain-HTTP URLs on /url, and saves nothing", async () => {
    const before = (await call('GET', '/webhooks', tokens['acme-admin']!)).body;
    const refusals: Record<string, number> = {
      'https://127.0.0.1:8443/hook': 403,
      'https://localhost/hook': 403,
      'https://[::1]/hook': 403,
      'https://10.0.0.8/hook': 403,
      'https://192.168.1.20/hook': 403,
      'https://169.254.169.254/latest': 403,
      'http://hooks.example.com/hook': 403,
      // The allowed receiver's origin under another name is not the allowed origin.
      [`${hook.origin.replace('127.0.0.1', 'localhost')}/hooks`]: 403,
      'https://user:pass@hooks.example.com/hook': 400,
      'ftp://hooks.example.com/hook': 400,
    };
    for (const [url, status] of Object.entries(refusals)) {
      const refused = await call('POST', '/webhooks', tokens['acme-admin']!, { url, events: ['sync.failed'] });
      expect([url, refused.status, refused.body.field]).toEqual([url, status, '/url']);
      expect(refused.body.detail).toMatch(
        status === 403 ? /outbound policy refuses .*(https:\/\/ only|private network)/ : /user info|https:\/\//,
      );
    }
    // A change to such a URL is refused the same way, and the endpoint keeps its own.
    const changed = await call('PATCH', `/webhooks/${id}`, tokens['acme-admin']!, { url: 'https://10.1.2.3/hook' });
    expect([changed.status, changed.body.field, changed.body.code]).toEqual([403, '/url', 'outbound_refused']);
    expect((await call('GET', '/webhooks', tokens['acme-admin']!)).body).toEqual(before);
    // A public HTTPS address is a tenant's to use.
    const publicHook = await call('POST', '/webhooks', tokens['acme-admin']!, {
      url: 'https://hooks.example.com/in',
      events: ['sync.failed'],
    });
    expect(publicHook.status).toBe(201);
    await call('DELETE', `/webhooks/${publicHook.body.id}`, tokens['acme-admin']!);
  });

  it('does not follow a redirect: the attempt fails and the redirect target receives nothing', async () => {
    const created = await call('POST', '/webhooks', tokens['acme-admin']!, { url: `${redirecting.origin}/in`, events: ['sync.failed'] });
    elsewhere.received.length = 0;
    const tested = await call('POST', `/webhooks/${created.body.id}/test`, tokens['acme-admin']!);
    expect(tested.status).toBe(200);
    expect(tested.body).toMatchObject({ delivered: false, status: 307, error: expect.stringMatching(/redirects are not followed/) });
    expect(redirecting.received).toHaveLength(1);
    expect(elsewhere.received).toHaveLength(0);
    await call('DELETE', `/webhooks/${created.body.id}`, tokens['acme-admin']!);
  });

  it("answers a receiver's failure as an attempt: its status and the first 200 characters of its answer", async () => {
    hook.answer.status = 500;
    hook.answer.text = `broken ${'x'.repeat(500)}`;
    const tested = await call('POST', `/webhooks/${id}/test`, tokens['acme-admin']!);
    hook.answer.status = 204;
    hook.answer.text = '';
    expect(tested.status).toBe(200);
    expect(tested.body).toMatchObject({ delivered: false, status: 500, error: 'the receiver answered 500' });
    expect(tested.body.response).toHaveLength(200);
  });

  it('is for admins of the workspace: a viewer or an editor is 403, another workspace 404, a connect bearer 403', async () => {
    for (const role of ['viewer', 'editor']) {
      const token = tokens[`acme-${role}`]!;
      const answered = [
        (await call('GET', '/webhooks', token)).status,
        (await call('POST', '/webhooks', token, { url: `${hook.origin}/e`, events: ['sync.failed'] })).status,
        (await call('GET', `/webhooks/${id}`, token)).status,
        (await call('PATCH', `/webhooks/${id}`, token, { enabled: true })).status,
        (await call('POST', `/webhooks/${id}/rotate-secret`, token)).status,
        (await call('POST', `/webhooks/${id}/test`, token)).status,
        (await call('DELETE', `/webhooks/${id}`, token)).status,
      ];
      expect([role, answered]).toEqual([role, [403, 403, 403, 403, 403, 403, 403]]);
    }
    const other = tokens['other-admin']!;
    expect((await call('GET', '/webhooks', other)).body).toEqual([]);
    expect([
      (await call('GET', `/webhooks/${id}`, other)).status,
      (await call('PATCH', `/webhooks/${id}`, other, { enabled: true })).status,
      (await call('POST', `/webhooks/${id}/rotate-secret`, other)).status,
      (await call('POST', `/webhooks/${id}/test`, other)).status,
      (await call('DELETE', `/webhooks/${id}`, other)).status,
    ]).toEqual([404, 404, 404, 404, 404]);
    const session = await call('POST', '/connect/sessions', tokens['acme-admin']!, {
      endUser: { id: 'user-1' },
      allowedOrigins: ['https://app.example.com'],
    });
    const { bearer } = (await call('POST', '/connect/exchange', 'none', { token: session.body.token })).body;
    // Refused before the route runs (connect-limits.ts names none of these), not only by the service's admin check.
    for (const [method, path] of [
      ['GET', '/webhooks'],
      ['POST', `/webhooks/${id}/test`],
      ['POST', `/webhooks/${id}/rotate-secret`],
    ] as const) {
      const refused = await call(method, path, bearer);
      expect([path, refused.status, refused.body.detail]).toEqual([path, 403, expect.stringMatching(/this route is not for it/)]);
    }
  });

  it('records create, update, delete and rotate in the audit trail, without the secret', async () => {
    const events = (await call('GET', '/audit', tokens['acme-admin']!)).body as JsonBody[];
    const ours = events.filter((e) => e.webhookId === id).map((e) => e.action);
    expect(ours).toEqual(['webhook.created', 'webhook.secret_rotated', 'webhook.updated']);
    expect(events.filter((e) => String(e.action).startsWith('webhook.')).map((e) => e.action)).toEqual(
      expect.arrayContaining(['webhook.deleted']),
    );
  });

  it('keeps the secret sealed: in no listing, audit event, error, log, nor in the bytes of the store', async () => {
    const listing = (await call('GET', '/webhooks', tokens['acme-admin']!)).text;
    const audit = (await call('GET', '/audit', API_TOKEN)).text + (await call('GET', '/audit', tokens['acme-admin']!)).text;
    const refused = (await call('PATCH', `/webhooks/${id}`, tokens['acme-admin']!, { url: 'http://hooks.example.com/' })).text;
    const store = await allBytes(api.home);
    for (const secret of secrets) {
      const body = secret.slice('whsec_'.length);
      for (const [where, text] of Object.entries({ listing, audit, refused, output: output.join('\n') }))
        expect([where, text.includes(body)]).toEqual([where, false]);
      expect(store.includes(body)).toBe(false);
      expect(store.includes(Buffer.from(body, 'base64'))).toBe(false);
    }
  });
});

describe('a master key rotation', () => {
  it("re-seals the endpoints' secrets: after it, with the new key alone, deliveries still verify with the secrets shown", async () => {
    const home = await tempHome();
    const [oldKey, newKey] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    try {
      const before = await openCredport({ home, masterKey: oldKey, env: {} });
      const created = await before.webhooks.create({ url: `${hook.origin}/rotated`, events: ['sync.failed'] });
      const rotated = await before.webhooks.rotateSecret(created.id);
      await before.close();

      const rotating = await openCredport({ home, masterKey: oldKey, nextMasterKey: newKey, env: {} });
      await rotating.keys.rotate();
      await rotating.close();

      const after = await openCredport({ home, masterKey: newKey, env: {} });
      hook.received.length = 0;
      expect(await after.webhooks.test(created.id)).toMatchObject({ delivered: true });
      await after.close();
      expect(verified(created.secret, hook.received[0]!)).toMatchObject({ type: 'webhook.test' });
      expect(verified(rotated.secret, hook.received[0]!)).toMatchObject({ type: 'webhook.test' });
    } finally {
      await removeHome(home);
    }
  });
});
