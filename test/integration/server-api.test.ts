import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import type { Credport } from '../../src/open-credport.js';
import { LoginSessions } from '../../src/server/login-sessions.js';
import type { SyncJobs } from '../../src/server/sync-jobs.js';
import { API_TOKEN, type ApiUnderTest, startApi } from '../helpers/api-server.js';
import { allBytes, fakeToken } from '../helpers/temp-home.js';
import type { JsonBody } from '../helpers/json-body.js';

/** The HTTP API over real loopback HTTP, in front of the Front emulator. */
let front: FrontEmulator;
let api: ApiUnderTest;
let home: string;
let credport: Credport;
let sessions: LoginSessions;
let jobs: SyncJobs;
let url: string;
/** Every answer body the tests received: none may carry a secret. */
let bodies: string[];

beforeAll(async () => (front = await new FrontEmulator({ records: 250 }).start()));
afterAll(() => front.stop());
beforeEach(async () => {
  bodies = [];
  api = await startApi({ server: { verifyLimit: { max: 10, timeWindow: 60_000 } } });
  ({ home, credport, sessions, jobs, url } = api);
});
afterEach(() => api.close());

interface Answer {
  status: number;
  headers: Headers;
  body: JsonBody;
  text: string;
}

async function call(
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; headers?: Record<string, string>; token?: string | null } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? API_TOKEN}`;
  if (options.body !== undefined || options.raw !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    body: options.raw ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined),
    redirect: 'manual',
  });
  const text = await response.text();
  bodies.push(text);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body, text };
}

const frontToken = () => [...front.tokens][0]!;

/** Signs in as the web app does: the login code, posted once, for a session token. */
async function signIn(): Promise<string> {
  const login = await call('POST', '/api/v1/session', { token: null, body: { code: sessions.loginCode } });
  expect(login.status).toBe(201);
  return login.body.token;
}
const addFront = (values: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  call('POST', '/api/v1/credentials', {
    body: {
      connector: 'front',
      baseUrl: front.url,
      values: { name: 'Support', description: 'Support team', apiKey: frontToken(), ...values },
      ...extra,
    },
  });

async function expectStoreEmpty(): Promise<void> {
  expect(await credport.credentials.list()).toEqual([]);
}

function expectNoSecretAnywhere(secret: string): void {
  for (const body of bodies) expect(body).not.toContain(secret);
}

describe('who may call it', () => {
  it('refuses every API request without the token, or with a wrong one, as problem details', async () => {
    for (const token of [null, 'wrong-token-0123456789abcdef0000']) {
      const answer = await call('GET', '/api/v1/credentials', { token });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.body).toMatchObject({ status: 401, code: 'unauthenticated' });
      expect(answer.headers.get('www-authenticate')).toContain('Bearer');
    }
    const created = await call('POST', '/api/v1/credentials', {
      token: null,
      body: { connector: 'front', baseUrl: front.url, values: { name: 'x', apiKey: frontToken() } },
    });
    expect(created.status).toBe(401);
    await expectStoreEmpty();
  });

  it('swaps the one-time login code, posted in a body, for a session token sent as a Bearer header, and sets no cookie', async () => {
    const code = sessions.loginCode;
    const login = await call('POST', '/api/v1/session', { token: null, body: { code } });
    expect(login.status).toBe(201);
    expect(login.headers.get('set-cookie')).toBeNull();
    expect(login.headers.get('cache-control')).toBe('no-store');
    expect(login.body).toEqual({ token: expect.stringMatching(/^cps_[\w-]{16}\.[\w-]{43}$/) });
    const listed = await call('GET', '/api/v1/credentials', { token: login.body.token });
    expect(listed.status).toBe(200);
    // Used once: the same code signs nobody else in.
    const again = await call('POST', '/api/v1/session', { token: null, body: { code } });
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('login_code_invalid');
    for (const forged of [`cps_${'a'.repeat(16)}.${'b'.repeat(43)}`, `${login.body.token.slice(0, -1)}x`, 'cps_short']) {
      expect((await call('GET', '/api/v1/credentials', { token: forged })).status).toBe(401);
    }
    // No cookie counts any more, and no URL takes a code: the old GET /login is gone and spends nothing.
    expect(
      (await call('GET', '/api/v1/credentials', { token: null, headers: { cookie: `credport_session=${login.body.token}` } })).status,
    ).toBe(401);
    const fresh = sessions.loginCode;
    expect((await call('GET', `/login?code=${fresh}`, { token: null })).status).toBe(404);
    expect(sessions.loginCode).toBe(fresh);
  });

  it('ends a session idle for 12 hours', async () => {
    let now = Date.now();
    const clocked = new LoginSessions(() => now);
    const token = clocked.exchange(clocked.loginCode)!;
    now += 11 * 3600_000;
    expect(clocked.valid(token)).toBeDefined();
    now += 12 * 3600_000 + 1;
    expect(clocked.valid(token)).toBeUndefined();
    // And over HTTP: a token of a session that ended is 401.
    const session = await signIn();
    expect((await call('DELETE', '/api/v1/session', { token: session })).status).toBe(204);
    const ended = await call('GET', '/api/v1/credentials', { token: session });
    expect(ended.status).toBe(401);
    expect(ended.body.code).toBe('unauthenticated');
  });

  it('refuses a state-changing request that names another origin, and any body that is not JSON', async () => {
    const session = await signIn();
    const body = { connector: 'front', baseUrl: front.url, values: { name: 'x', apiKey: frontToken() } };
    for (const origin of ['https://evil.example', 'null', url.replace(/:(\d+)$/, (_m, p: string) => `:${Number(p) + 1}`)]) {
      const answer = await call('POST', '/api/v1/credentials', { token: session, body, headers: { origin } });
      expect(answer.status).toBe(403);
      expect(answer.body.code).toBe('cross_site_request');
    }
    // What a cross-site form can send: text/plain or a url-encoded body.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const answer = await call('POST', '/api/v1/credentials', { raw: JSON.stringify(body), headers: { 'content-type': type } });
      expect(answer.status).toBe(415);
    }
    await expectStoreEmpty();
    const same = await call('POST', '/api/v1/credentials', { token: session, body, headers: { origin: url } });
    expect(same.status).toBe(201);
  });

  it('sets the security headers on every answer', async () => {
    for (const path of ['/api/v1/connectors', '/', '/api/v1/nope']) {
      const answer = await call('GET', path);
      const csp = answer.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
    }
    expect((await call('GET', '/api/v1/connectors')).headers.get('cache-control')).toBe('no-store');
  });

  it('limits the provider-verifying requests per caller', async () => {
    const answers: Answer[] = [];
    for (let i = 0; i < 11; i++) answers.push(await addFront({ name: `S${i}` }, { verify: false }));
    const statuses = answers.map((a) => a.status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(201));
    expect(statuses[10]).toBe(429);
    // What the OpenAPI document declares on a 429: when to try again, in seconds.
    expect(answers[10]!.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
    expect(answers[10]!.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await credport.credentials.list()).toHaveLength(10);
  });

  it('refuses a body over the size limit', async () => {
    const answer = await addFront({ description: 'x'.repeat(70 * 1024) });
    expect(answer.status).toBe(413);
    await expectStoreEmpty();
  });
});

describe('credentials', () => {
  it('creates (201, the tile), lists, shows, renames, tests and deletes, never answering the secret', async () => {
    const created = await addFront();
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ connector: 'front', name: 'Support', status: 'verified', identity: { id: front.company.id } });
    const id = created.body.id as string;
    expect(created.headers.get('location')).toBe(`/api/v1/credentials/${id}`);
    expect((await call('GET', '/api/v1/credentials?connector=front')).body.map((t: { id: string }) => t.id)).toEqual([id]);
    expect((await call('GET', `/api/v1/credentials/${id}`)).body.name).toBe('Support');
    expect((await call('PATCH', `/api/v1/credentials/${id}`, { body: { name: 'Support EU' } })).body.name).toBe('Support EU');
    expect((await call('POST', `/api/v1/credentials/${id}/test`)).body.status).toBe('verified');
    expect((await call('DELETE', `/api/v1/credentials/${id}`)).body).toEqual({ id, deleted: true });
    expect((await call('GET', `/api/v1/credentials/${id}`)).status).toBe(404);
    expectNoSecretAnywhere(frontToken());
  });

  it('serialises a tile with its schema: a field the schema does not name is never sent, even when a bug puts it there', async () => {
    const id = (await addFront()).body.id as string;
    const show = credport.credentials.show.bind(credport.credentials);
    credport.credentials.show = async (wanted) => Object.assign(await show(wanted), { apiKey: 'leaked-by-a-bug' });
    const answer = await call('GET', `/api/v1/credentials/${id}`);
    expect(answer.status).toBe(200);
    expect(answer.body.id).toBe(id);
    expect(answer.text).not.toContain('leaked-by-a-bug');
  });

  it("answers a provider refusal with 422 in the provider's words, naming the secret field, and saves nothing", async () => {
    const wrong = fakeToken('wrong');
    const answer = await addFront({ apiKey: wrong });
    expect(answer.status).toBe(422);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(answer.body).toMatchObject({ code: 'provider_rejected', providerStatus: 401, exitCode: 3 });
    expect(answer.body.detail).toContain('Unauthenticated');
    // For the person who typed it: the provider's answer without the request line (detail keeps it for developers).
    expect(answer.body.providerMessage).toMatch(/^Front rejected the credential: 401 Unauthenticated: .+[^)]$/);
    expect(answer.body.detail).toBe(`${answer.body.providerMessage} (GET /me)`);
    expectNoSecretAnywhere(wrong);
    await expectStoreEmpty();
    expect((await allBytes(home)).includes(wrong)).toBe(false);
  });

  it('answers bad input with 400 and the field as a JSON pointer, saving nothing', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ connector: 'front', values: { name: '', apiKey: frontToken() }, baseUrl: front.url }, '/values/name'],
      [{ connector: 'front', values: { apiKey: frontToken() }, baseUrl: front.url }, '/values/name'],
      [{ connector: 'front', values: { name: 'x', apiKey: frontToken() }, baseUrl: 'http://example.com' }, '/baseUrl'],
      [{ connector: 'front', values: { name: 'x', apiKey: frontToken() }, extra: 1 }, '/extra'],
      [{ connector: 'front', values: { name: 'x', apiKey: frontToken(), isAdmin: true }, baseUrl: front.url }, '/values/isAdmin'],
      [{ values: { name: 'x' } }, '/connector'],
    ];
    for (const [body, field] of cases) {
      const answer = await call('POST', '/api/v1/credentials', { body });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ code: 'invalid_input', field });
    }
    const unknown = await call('POST', '/api/v1/credentials', { body: { connector: 'nope', values: { name: 'x' } } });
    expect(unknown.status).toBe(400);
    await expectStoreEmpty();
  });

  it('never echoes a malformed body (it may hold the secret)', async () => {
    const secret = fakeToken('malformed');
    const answer = await call('POST', '/api/v1/credentials', { raw: `{"connector":"front","values":{"apiKey":"${secret}"` });
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toBe('the body is not valid JSON');
    expectNoSecretAnywhere(secret);
  });

  it('refuses a __proto__ key under its own name', async () => {
    const answer = await call('POST', '/api/v1/credentials', {
      raw: `{"connector":"front","baseUrl":"${front.url}","__proto__":{"verify":false},"values":{"name":"x","apiKey":"${frontToken()}"}}`,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.field).toBe('/__proto__');
    await expectStoreEmpty();
  });

  it('refuses to delete a credential a source uses (409, naming it)', async () => {
    const id = (await addFront()).body.id as string;
    expect(
      (await call('POST', '/api/v1/sources', { body: { name: 'Front source', connector: 'front', credentialId: id, streams: ['tags'] } }))
        .status,
    ).toBe(201);
    const refused = await call('DELETE', `/api/v1/credentials/${id}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'in_use' });
    expect(refused.body.detail).toContain('Front source');
  });
});

describe('syncs', () => {
  async function setUp(streams: string[]): Promise<{ source: string; destination: string }> {
    const credential = (await addFront()).body.id as string;
    const source = await call('POST', '/api/v1/sources', { body: { name: 'Src', connector: 'front', credentialId: credential, streams } });
    const destination = await call('POST', '/api/v1/destinations', { body: { name: 'Files', connector: 'jsonl' } });
    expect([source.status, destination.status]).toEqual([201, 201]);
    expect([source.headers.get('location'), destination.headers.get('location')]).toEqual([
      `/api/v1/sources/${source.body.id}`,
      `/api/v1/destinations/${destination.body.id}`,
    ]);
    return { source: source.body.id, destination: destination.body.id };
  }

  /** Reads a Server-Sent Events stream to its end: the events `credport sync --json` prints. */
  async function events(id: string): Promise<{ event: string; [k: string]: unknown }[]> {
    const response = await fetch(`${url}/api/v1/syncs/${id}/events`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text();
    bodies.push(text);
    return text
      .split('\n\n')
      .map((block) => block.split('\n').find((line) => line.startsWith('data: ')))
      .filter((line): line is string => line !== undefined)
      .map((line) => JSON.parse(line.slice(6)));
  }

  it('starts a sync (202), streams its events as SSE to the summary, and reports its state', async () => {
    const { source, destination } = await setUp(['tags', 'contacts']);
    const started = await call('POST', '/api/v1/syncs', { body: { source, destination } });
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe(`/api/v1/syncs/${started.body.id}`);
    expect(started.body).toMatchObject({ status: 'running', streams: ['tags', 'contacts'] });
    const all = await events(started.body.id);
    expect(all[0]).toMatchObject({ event: 'started', streams: ['tags', 'contacts'] });
    expect(all.filter((e) => e.event === 'page').length).toBe(6);
    expect(all.at(-1)).toMatchObject({ event: 'finished', summary: { records: 500 } });
    const state = await call('GET', `/api/v1/syncs/${started.body.id}`);
    expect(state.body).toMatchObject({
      status: 'finished',
      progress: { tags: { records: 250, status: 'done' } },
      summary: { records: 500 },
    });
    expectNoSecretAnywhere(frontToken());
  });

  it('cancels after a checkpoint; the next sync finishes the run', async () => {
    const { source, destination } = await setUp(['tags', 'contacts', 'accounts']);
    // Started and cancelled in-process at its first checkpoint, so the test does not race the run.
    const started = jobs.start({ source, destination }, ['tags', 'contacts', 'accounts']);
    jobs.subscribe(started.id, 0, ({ event }) => {
      if (event.event === 'checkpoint') jobs.cancel(started.id);
    });
    const all = await events(started.id);
    expect(all.at(-1)).toMatchObject({ event: 'failed', code: 'sync_cancelled' });
    // The streams run side by side: each stops after the page it was reading, none reads on.
    const checkpointed = all.filter((e) => e.event === 'checkpoint').map((e) => e.stream as string);
    expect(checkpointed.length).toBeGreaterThanOrEqual(1);
    expect(new Set(checkpointed).size).toBe(checkpointed.length);
    expect((await call('GET', `/api/v1/syncs/${started.id}`)).body.status).toBe('cancelled');
    const again = await call('POST', '/api/v1/syncs', { body: { source, destination } });
    const rest = await events(again.body.id);
    expect(rest[0]).toMatchObject({ event: 'started', resumedRun: true });
    expect([...(rest[0]!.resumed as string[])].sort()).toEqual([...checkpointed].sort());
    expect(rest.filter((e) => e.event === 'page')).toHaveLength(9 - checkpointed.length); // the checkpointed pages are not read again
    expect(rest.at(-1)).toMatchObject({ event: 'finished', summary: { records: 750 } });
  });

  it('cancels over HTTP (202), and a finished sync stays finished', async () => {
    const { source, destination } = await setUp(['tags']);
    const started = await call('POST', '/api/v1/syncs', { body: { source, destination } });
    const cancel = await call('POST', `/api/v1/syncs/${started.body.id}/cancel`);
    expect(cancel.status).toBe(202);
    expect(cancel.headers.get('location')).toBe(`/api/v1/syncs/${started.body.id}`);
    const last = (await events(started.body.id)).at(-1)!;
    expect(['finished', 'failed']).toContain(last.event);
    const after = await call('POST', `/api/v1/syncs/${started.body.id}/cancel`);
    expect(after.body.status).toBe(last.event === 'finished' ? 'finished' : 'cancelled');
  });

  it('answers an unknown source 404 and an unknown stream 400 before anything runs', async () => {
    const { source, destination } = await setUp(['tags']);
    expect((await call('POST', '/api/v1/syncs', { body: { source: 'src_00000000000000000000', destination } })).status).toBe(404);
    const stream = await call('POST', '/api/v1/syncs', { body: { source, destination, streams: ['contacts'] } });
    expect(stream.status).toBe(400);
    expect(stream.body.field).toBe('/streams');
    expect((await call('GET', '/api/v1/syncs/sync_00000000000000000000')).status).toBe(404);
  });
});

describe('the OpenAPI document', () => {
  it('describes every route from the same schemas, with problem answers', async () => {
    const doc = (await call('GET', '/api/v1/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/api/v1/credentials',
      '/api/v1/credentials/{id}/rotate',
      '/api/v1/sources',
      '/api/v1/destinations/{id}',
      '/api/v1/syncs/{id}/events',
      '/api/v1/connectors/{id}/form',
    ]) {
      expect(doc.paths[path]).toBeDefined();
    }
    expect(doc.paths['/login']).toBeUndefined();
    expect(doc.components.schemas.CredentialTile.properties.apiKey).toBeUndefined();
    const post = doc.paths['/api/v1/credentials'].post;
    expect(post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/CredentialCreateRequest');
    expect(post.responses['422'].content['application/problem+json'].schema.$ref).toBe('#/components/schemas/ApiProblem');
  });
});

describe('GET /api/v1/audit', () => {
  it('names the caller of each change: the API token, or a browser session by a hash of it, never its token', async () => {
    const created = await addFront();
    expect(created.status).toBe(201);
    const session = await signIn();
    const renamed = await call('PATCH', `/api/v1/credentials/${created.body.id}`, {
      token: session,
      body: { name: 'Renamed' },
      headers: { origin: url },
    });
    expect(renamed.status).toBe(200);
    const audit = await call('GET', `/api/v1/audit?credential=${created.body.id}`);
    expect(audit.status).toBe(200);
    expect(audit.body.map((e: { action: string; actor: string }) => `${e.action} ${e.actor}`)).toEqual([
      'credential.created api:token',
      expect.stringMatching(/^credential\.renamed api:session:[0-9a-f]{12}$/),
    ]);
    for (const part of session.slice(4).split('.')) expect(audit.text).not.toContain(part);
    expect((await call('GET', '/api/v1/audit?since=not-a-date')).status).toBe(400);
    expect((await call('GET', '/api/v1/audit', { token: null })).status).toBe(401);
    expect((await call('GET', '/api/v1/audit?limit=1')).body).toHaveLength(1);
  });
});

describe('workspaces and roles over HTTP', () => {
  it("a token of one workspace sees only that workspace's tiles, gets 404 for another's, and 403 beyond its role", async () => {
    const created = await addFront(); // the server's own token: the default workspace
    expect(created.status).toBe(201);
    const { withAccess } = await import('../../src/access/access.js');
    const admin = await withAccess({ workspace: 'acme', role: 'admin' }, () =>
      credport.tokens.create({ name: 'acme admin', role: 'admin' }),
    );
    const asAcme = (method: string, path: string, body?: unknown) =>
      call(method, path, { token: admin.token!, ...(body !== undefined ? { body } : {}) });
    expect((await asAcme('GET', '/api/v1/credentials')).body).toEqual([]);
    expect((await asAcme('GET', `/api/v1/credentials/${created.body.id}`)).status).toBe(404);
    expect((await asAcme('DELETE', `/api/v1/credentials/${created.body.id}`)).status).toBe(404);
    // The emulator is on loopback: a workspace's token may point a credential there only once the operator allows it.
    credport.outbound.allow(`front=${front.url}`);
    const own = await asAcme('POST', '/api/v1/credentials', {
      connector: 'front',
      baseUrl: front.url,
      values: { name: 'Acme', apiKey: frontToken() },
    });
    expect(own.status).toBe(201);
    expect(own.body.workspace).toBe('acme');
    expect((await call('GET', '/api/v1/credentials')).body.map((t: { id: string }) => t.id)).toEqual([created.body.id]);
    // The default workspace's sync is not there for acme: its state, its events and its cancel.
    const source = await call('POST', '/api/v1/sources', {
      body: { name: 'Src', connector: 'front', credentialId: created.body.id, streams: ['tags'] },
    });
    const destination = await call('POST', '/api/v1/destinations', { body: { name: 'Files', connector: 'jsonl' } });
    const started = await call('POST', '/api/v1/syncs', { body: { source: source.body.id, destination: destination.body.id } });
    expect(started.status).toBe(202);
    for (const [method, path] of [
      ['GET', `/api/v1/syncs/${started.body.id}`],
      ['GET', `/api/v1/syncs/${started.body.id}/events`],
      ['POST', `/api/v1/syncs/${started.body.id}/cancel`],
      ['POST', '/api/v1/syncs'],
    ] as const) {
      const answer = await asAcme(
        method,
        path,
        path === '/api/v1/syncs' ? { source: source.body.id, destination: destination.body.id } : undefined,
      );
      expect([path, answer.status]).toEqual([path, 404]);
    }
    expect((await call('GET', `/api/v1/syncs/${started.body.id}`)).status).toBe(200);

    // An admin makes a viewer token; the viewer reads, and is refused writing or making tokens.
    const viewer = await asAcme('POST', '/api/v1/tokens', { name: 'dashboard', role: 'viewer' });
    expect(viewer.status).toBe(201);
    expect(viewer.body).toMatchObject({ workspace: 'acme', role: 'viewer', token: expect.stringMatching(/^cpt_/) });
    const asViewer = (method: string, path: string, body?: unknown) =>
      call(method, path, { token: viewer.body.token, ...(body !== undefined ? { body } : {}) });
    expect((await asViewer('GET', '/api/v1/credentials')).body.map((t: { id: string }) => t.id)).toEqual([own.body.id]);
    const refused = await asViewer('POST', '/api/v1/credentials', {
      connector: 'front',
      baseUrl: front.url,
      values: { name: 'No', apiKey: frontToken() },
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      code: 'forbidden',
      detail: 'adding a credential needs the editor role; this caller is a viewer of workspace acme',
    });
    expect((await asViewer('POST', '/api/v1/tokens', { name: 'up', role: 'admin' })).status).toBe(403);
    expect((await asAcme('GET', '/api/v1/tokens')).body.map((t: { role: string }) => t.role).sort()).toEqual(['admin', 'viewer']);
    expect((await asAcme('GET', '/api/v1/tokens')).text).not.toContain(viewer.body.token);
    // Revoked: the next request with it is refused.
    expect((await asAcme('DELETE', `/api/v1/tokens/${viewer.body.id}`)).status).toBe(200);
    expect((await asViewer('GET', '/api/v1/credentials')).status).toBe(401);
    // Each token has its own budget of provider-asking requests: acme spending all of its own (10 a
    // minute here) leaves the server's token its own.
    for (let i = 0; i < 10; i++) await asAcme('POST', `/api/v1/credentials/${own.body.id}/test`);
    expect((await asAcme('POST', `/api/v1/credentials/${own.body.id}/test`)).status).toBe(429);
    expect((await call('POST', `/api/v1/credentials/${created.body.id}/test`)).status).toBe(200);
    // The audit trail names the token that acted, in its workspace only.
    const audit = await asAcme('GET', '/api/v1/audit');
    expect(audit.body.map((e: { action: string; actor: string }) => `${e.action} ${e.actor}`).slice(0, 2)).toEqual([
      `credential.created api:token:${admin.id}`,
      `credential.verified api:token:${admin.id}`,
    ]);
    expect(audit.body.every((e: { workspace: string }) => e.workspace === 'acme')).toBe(true);
  });
});
