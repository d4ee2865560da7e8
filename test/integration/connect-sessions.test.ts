import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { withAccess } from '../../src/access/access.js';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { type ApiUnderTest, startApi } from '../helpers/api-server.js';
import { connectCalls, HOST_ORIGIN } from '../helpers/connect-api.js';
import { allBytes } from '../helpers/temp-home.js';

/**
 * Connect sessions over real loopback HTTP: a host's back end mints one with its workspace's
 * token, the Connect page exchanges its token once for a bearer, and that bearer lists, adds,
 * tests and rotates within its grant, and nothing else.
 */
let front: FrontEmulator;
let api: ApiUnderTest;
let editor: string;
const HOST = HOST_ORIGIN;

beforeAll(
  async () => (front = await new FrontEmulator({ tokens: ['emu_good_token_0123456789abcdef', 'emu_other_token_0123456789abcd'] }).start()),
);
afterAll(async () => front.stop());
beforeEach(async () => {
  api = await startApi({ open: { allowedOrigins: [`front=${front.url}`] } });
  editor = await tokenOf('acme', 'editor');
});
afterEach(async () => api.close());

const connect = connectCalls(() => api);
const { call, tokenOf, exchange } = connect;
const mint = (body: Record<string, unknown> = {}, token = editor) => connect.mint(token, body);
const bearerFor = (body: Record<string, unknown> = {}) => connect.bearerFor(editor, body);

const addFront = (token: string, name = 'Support', apiKey = 'emu_good_token_0123456789abcdef') =>
  call('POST', '/api/v1/credentials', token, { connector: 'front', baseUrl: front.url, values: { name, apiKey } });

describe('minting a session', () => {
  it('answers 201 with an id, a token shown once, its expiry and the Connect page, with Location; only a hash is stored', async () => {
    const before = Date.now();
    const answer = await call('POST', '/api/v1/connect/sessions', editor, {
      endUser: { id: 'user-42', displayName: 'Pam', email: 'pam@example.com' },
      allowedOrigins: [HOST, 'https://app.example.com'],
      connectors: ['front'],
      mode: 'create',
      prefill: { name: 'Front for Pam' },
    });
    expect(answer.status).toBe(201);
    const created = answer.body as { id: string; token: string; expiresAt: string; url: string };
    expect(created.token).toMatch(/^ccs_[a-z0-9]{16,32}\.[\w-]{43}$/);
    expect(created.url).toBe(`/connect/${created.id}`);
    expect(answer.headers.get('location')).toBe(`/api/v1/connect/sessions/${created.id}`);
    const lifetime = Date.parse(created.expiresAt) - before;
    expect(lifetime).toBeGreaterThan(1799_000);
    expect(lifetime).toBeLessThanOrEqual(1801_000);
    const stored = (await allBytes(api.home)).toString('latin1');
    expect(stored).toContain(created.id);
    expect(stored).not.toContain(created.token.split('.')[1]);

    const read = await call('GET', `/api/v1/connect/sessions/${created.id}`, editor);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ state: 'pending', mode: 'create', connectors: ['front'], workspace: 'acme' });
    expect(JSON.stringify(read.body)).not.toContain(created.token.split('.')[1]);
  });

  it('refuses what a session may not be, by the field: a path, a wildcard, plain http off loopback, too long a life', async () => {
    const refusals: [Record<string, unknown>, string][] = [
      [{ allowedOrigins: ['https://app.example.com/embed'] }, '/allowedOrigins/0'],
      [{ allowedOrigins: [HOST, 'https://*.example.com'] }, '/allowedOrigins/1'],
      [{ allowedOrigins: ['http://app.example.com'] }, '/allowedOrigins/0'],
      [{ expiresIn: 14401 }, '/expiresIn'],
      [{ mode: 'reconnect' }, '/credentialId'],
      [{ endUser: {} }, '/endUser/id'],
    ];
    for (const [body, field] of refusals) {
      const answer = await call('POST', '/api/v1/connect/sessions', editor, { endUser: { id: 'u' }, allowedOrigins: [HOST], ...body });
      expect({ status: answer.status, field: (answer.body as { field?: string }).field }).toEqual({ status: 400, field });
    }
  });

  it('refuses a viewer (a session does what its creator could not), and a reconnect of a credential not in the workspace', async () => {
    const viewer = await tokenOf('acme', 'viewer');
    const answer = await call('POST', '/api/v1/connect/sessions', viewer, { endUser: { id: 'u' }, allowedOrigins: [HOST] });
    expect(answer.status).toBe(403);
    const other = await addFront(await tokenOf('globex', 'editor'));
    const reconnect = await call('POST', '/api/v1/connect/sessions', editor, {
      endUser: { id: 'u' },
      allowedOrigins: [HOST],
      mode: 'reconnect',
      credentialId: (other.body as { id: string }).id,
    });
    expect(reconnect.status).toBe(404);
  });

  it("ties a reconnect session to its credential's connector, and credentialId to reconnect only", async () => {
    const credential = (await addFront(editor)).body as { id: string };
    const mintWith = (body: Record<string, unknown>) =>
      call('POST', '/api/v1/connect/sessions', editor, { endUser: { id: 'u' }, allowedOrigins: [HOST], ...body });
    // Without connectors, the session's connector is the credential's own.
    const reconnect = await mintWith({ mode: 'reconnect', credentialId: credential.id });
    expect(reconnect.status).toBe(201);
    const { id } = reconnect.body as { id: string };
    expect((await call('GET', `/api/v1/connect/sessions/${id}`, editor)).body).toMatchObject({ connectors: ['front'] });
    const otherConnector = await mintWith({ mode: 'reconnect', credentialId: credential.id, connectors: ['frontline'] });
    expect(otherConnector.status).toBe(400);
    expect(otherConnector.body).toMatchObject({ field: '/connectors', detail: expect.stringContaining('a front credential') });
    const notReconnect = await mintWith({ mode: 'pick', credentialId: credential.id });
    expect(notReconnect.status).toBe(400);
    expect(notReconnect.body).toMatchObject({ field: '/credentialId', detail: expect.stringContaining('mode is pick') });
    const unknown = await mintWith({ connectors: ['front', 'nowhere'] });
    expect(unknown.status).toBe(404);
    expect((unknown.body as { detail: string }).detail).toMatch(/^connectors\/1: /);
  });

  it('ends with the API token that minted it: revoking the token revokes its live sessions, and their bearers stop', async () => {
    const asAdmin = <T>(run: () => Promise<T>) => withAccess({ workspace: 'acme', role: 'admin' }, run);
    const made = await asAdmin(() => api.credport.tokens.create({ name: 'minter', role: 'editor' }));
    const opened = await mint({}, made.token!);
    const { bearer } = (await exchange(opened.token)).body as { bearer: string };
    const pending = await mint({}, made.token!);
    const other = await mint(); // another token's session stays
    expect((await call('GET', '/api/v1/credentials', bearer)).status).toBe(200);
    await asAdmin(() => api.credport.tokens.revoke(made.id));
    expect((await call('GET', '/api/v1/credentials', bearer)).status).toBe(401);
    expect((await exchange(pending.token)).body).toMatchObject({ status: 410, code: 'connect_session_revoked' });
    for (const id of [opened.id, pending.id])
      expect((await call('GET', `/api/v1/connect/sessions/${id}`, editor)).body).toMatchObject({ state: 'revoked' });
    expect((await call('GET', `/api/v1/connect/sessions/${other.id}`, editor)).body).toMatchObject({ state: 'pending' });
  });

  it("is not found by another workspace's token, to read or to revoke", async () => {
    const { id } = await mint();
    const globex = await tokenOf('globex', 'admin');
    expect((await call('GET', `/api/v1/connect/sessions/${id}`, globex)).status).toBe(404);
    expect((await call('DELETE', `/api/v1/connect/sessions/${id}`, globex)).status).toBe(404);
    expect((await call('GET', `/api/v1/connect/sessions/${id}`, editor)).body).toMatchObject({ state: 'pending' });
  });
});

describe('exchanging the token', () => {
  it('gives a bearer of at most 15 minutes, what the session is for, and opens the session', async () => {
    const session = await mint({ connectors: ['front'], endUser: { id: 'user-42', displayName: 'Pam', email: 'pam@example.com' } });
    const answer = await exchange(session.token);
    expect(answer.status).toBe(200);
    const body = answer.body as { bearer: string; expiresAt: string; session: Record<string, unknown> };
    expect(body.bearer).toMatch(/^ccb_/);
    expect(Date.parse(body.expiresAt) - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    // ...and that long when the session outlives it (30 minutes by default).
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(14 * 60_000);
    // The email stays with the host's back end: the page is told the end user's id and name only.
    expect(body.session).toEqual({ id: session.id, mode: 'pick', connectors: ['front'], endUser: { id: 'user-42', displayName: 'Pam' } });
    expect((await call('GET', `/api/v1/connect/sessions/${session.id}`, editor)).body).toMatchObject({ state: 'opened' });
  });

  it('works once: a second exchange is 410, and of two at the same moment exactly one wins', async () => {
    const session = await mint();
    expect((await exchange(session.token)).status).toBe(200);
    const again = await exchange(session.token);
    expect(again.status).toBe(410);
    expect(again.body).toMatchObject({ code: 'connect_token_used' });

    const raced = await mint();
    const answers = await Promise.all(Array.from({ length: 5 }, () => exchange(raced.token)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 410, 410, 410, 410]);
  });

  it('refuses a revoked or expired session (410) and a token that is not one (401)', async () => {
    const revoked = await mint();
    expect((await call('DELETE', `/api/v1/connect/sessions/${revoked.id}`, editor)).body).toMatchObject({ state: 'revoked' });
    expect((await exchange(revoked.token)).body).toMatchObject({ status: 410, code: 'connect_session_revoked' });

    const expired = await mint({ expiresIn: 60 });
    const realNow = Date.now;
    Date.now = () => realNow() + 61_000;
    try {
      expect((await exchange(expired.token)).body).toMatchObject({ status: 410, code: 'connect_session_expired' });
      expect((await call('GET', `/api/v1/connect/sessions/${expired.id}`, editor)).body).toMatchObject({ state: 'expired' });
    } finally {
      Date.now = realNow;
    }

    const forged = `${revoked.token.slice(0, -4)}AAAA`;
    const answer = await exchange(forged.replace(revoked.id.slice(4), expired.id.slice(4)));
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toContain('Bearer');
  });
});

describe("the session's bearer", () => {
  it('adds a credential of its connectors that records its end user, completes the session, and the audit names connect:<id>', async () => {
    const { id, bearer } = await bearerFor({ connectors: ['front'], mode: 'create' });
    const created = await addFront(bearer);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ workspace: 'acme', endUserId: 'user-42', status: 'verified' });
    const credentialId = (created.body as { id: string }).id;
    expect((await call('GET', `/api/v1/connect/sessions/${id}`, editor)).body).toMatchObject({
      state: 'completed',
      outcome: { action: 'created', credentialId },
    });
    const audit = (await call('GET', `/api/v1/audit?credential=${credentialId}`, editor)).body as { actor: string; action: string }[];
    expect(audit).toContainEqual(expect.objectContaining({ action: 'credential.created', actor: 'connect:user-42' }));
  });

  it("lists its end user's credentials of its connectors only, unless the session shows the workspace's", async () => {
    const mine = await bearerFor({ connectors: ['front'] });
    const own = ((await addFront(mine.bearer, 'Mine')).body as { id: string }).id;
    await addFront(editor, 'Workspace one');
    const listed = (await call('GET', '/api/v1/credentials', mine.bearer)).body as { id: string }[];
    expect(listed.map((t) => t.id)).toEqual([own]);

    const wide = await bearerFor({ connectors: ['front'], showWorkspaceCredentials: true, endUser: { id: 'someone-else' } });
    expect(((await call('GET', '/api/v1/credentials', wide.bearer)).body as unknown[]).length).toBe(2);
    const otherConnector = await bearerFor({ connectors: ['frontline'], showWorkspaceCredentials: true });
    expect((await call('GET', '/api/v1/credentials', otherConnector.bearer)).body).toEqual([]);
  });

  it("tests and rotates reconnect's credential or its end user's, and nothing else (404)", async () => {
    const workspaces = ((await addFront(editor, 'Theirs')).body as { id: string }).id;
    const reconnect = await bearerFor({ mode: 'reconnect', credentialId: workspaces });
    expect((await call('POST', `/api/v1/credentials/${workspaces}/test`, reconnect.bearer)).status).toBe(200);
    const rotated = await call('POST', `/api/v1/credentials/${workspaces}/rotate`, reconnect.bearer, {
      secrets: { apiKey: 'emu_other_token_0123456789abcd' },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ id: workspaces, status: 'verified' });
    expect((await call('GET', `/api/v1/connect/sessions/${reconnect.id}`, editor)).body).toMatchObject({
      state: 'completed',
      outcome: { action: 'repaired', credentialId: workspaces },
    });
    // A reconnect session repairs; it does not add.
    expect((await addFront(reconnect.bearer)).status).toBe(403);

    const pick = await bearerFor({ connectors: ['front'] });
    expect((await call('POST', `/api/v1/credentials/${workspaces}/test`, pick.bearer)).status).toBe(404);
    expect(
      (await call('POST', `/api/v1/credentials/${workspaces}/rotate`, pick.bearer, { secrets: { apiKey: 'x'.repeat(20) } })).status,
    ).toBe(404);
  });

  it('is refused everything beyond its grant: other connectors, tokens, audit, sources, syncs, sessions, one tile', async () => {
    const { id, bearer } = await bearerFor({ connectors: ['front'] });
    const tile = ((await addFront(editor)).body as { id: string }).id;
    const otherConnector = await call('POST', '/api/v1/credentials', bearer, {
      connector: 'frontline',
      values: { name: 'x', apiKey: 'y'.repeat(20) },
    });
    expect(otherConnector.status).toBe(403);
    const refused: [string, string, unknown?][] = [
      ['GET', '/api/v1/tokens'],
      ['POST', '/api/v1/tokens', { name: 'mine', role: 'admin' }],
      ['GET', '/api/v1/audit'],
      ['GET', '/api/v1/sources'],
      ['GET', '/api/v1/destinations'],
      ['GET', '/api/v1/syncs'],
      ['GET', `/api/v1/credentials/${tile}`],
      ['PATCH', `/api/v1/credentials/${tile}`, { name: 'renamed' }],
      ['DELETE', `/api/v1/credentials/${tile}`],
      ['POST', '/api/v1/connect/sessions', { endUser: { id: 'u' }, allowedOrigins: [HOST], expiresIn: 14400 }],
      ['GET', `/api/v1/connect/sessions/${id}`],
      ['DELETE', `/api/v1/connect/sessions/${id}`],
    ];
    for (const [method, path, body] of refused)
      expect({ method, path, status: (await call(method, path, bearer, body)).status }).toEqual({ method, path, status: 403 });
  });

  it("stops working at once when its session is revoked, and never reaches another workspace's credentials", async () => {
    const globexTile = ((await addFront(await tokenOf('globex', 'editor'))).body as { id: string }).id;
    const { id, bearer } = await bearerFor({ connectors: ['front'], showWorkspaceCredentials: true });
    expect((await call('GET', '/api/v1/credentials', bearer)).body).toEqual([]);
    expect((await call('POST', `/api/v1/credentials/${globexTile}/test`, bearer)).status).toBe(404);
    expect((await call('GET', '/api/v1/credentials', bearer)).status).toBe(200);
    await call('DELETE', `/api/v1/connect/sessions/${id}`, editor);
    expect((await call('GET', '/api/v1/credentials', bearer)).status).toBe(401);
  });
});
