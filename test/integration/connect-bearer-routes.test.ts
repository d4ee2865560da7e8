import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { type Access, withAccess } from '../../src/access/access.js';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { API_TOKEN, type ApiUnderTest, startApi } from '../helpers/api-server.js';
import { connectCalls } from '../helpers/connect-api.js';

/**
 * What a connect session's bearer may do besides the credentials routes, over real loopback HTTP:
 * read its connectors and their forms (no other connector exists for it), learn whether it may
 * give a base URL (the operator's outbound policy decides), report the tile its end user picked,
 * and leave an audit trail of the session (minted, opened, picked, revoked) that never holds a token.
 */
let front: FrontEmulator;
let api: ApiUnderTest;
let editor: string;
const GOOD = 'emu_good_token_0123456789abcdef';

beforeAll(async () => (front = await new FrontEmulator({ tokens: [GOOD, 'emu_other_token_0123456789abcd'] }).start()));
afterAll(async () => front.stop());
beforeEach(async () => {
  // The operator allows Front's credentials (only Front's) to point at the emulator.
  api = await startApi({ open: { allowedOrigins: [`front=${front.url}`] } });
  editor = await tokenOf('acme', 'editor');
});
afterEach(async () => api.close());

const connect = connectCalls(() => api);
const { call, tokenOf, exchange } = connect;
const mint = (body: Record<string, unknown> = {}, token = editor) => connect.mint(token, body);
const bearerFor = (body: Record<string, unknown> = {}) => connect.bearerFor(editor, body);

const addFront = async (token: string, name = 'Support'): Promise<string> => {
  const added = await call('POST', '/api/v1/credentials', token, {
    connector: 'front',
    baseUrl: front.url,
    values: { name, apiKey: GOOD },
  });
  expect(added.status).toBe(201);
  return (added.body as { id: string }).id;
};

const readSession = async (id: string) => (await call('GET', `/api/v1/connect/sessions/${id}`, editor)).body as Record<string, unknown>;

describe("a connect session's bearer and the connectors", () => {
  it("lists its session's connectors only, without the operator's allowed origins; the library under its grant answers the same", async () => {
    const { bearer, token } = await bearerFor({ connectors: ['front', 'frontegg'] });
    const listed = await call('GET', '/api/v1/connectors', bearer);
    expect(listed.status).toBe(200);
    const summaries = listed.body as { id: string; allowedOrigins?: string[] }[];
    expect(summaries.map((c) => c.id)).toEqual(['front', 'frontegg']);
    // The operator's policy may name its own networks: a host's token sees them, an end user does not.
    expect(summaries.find((c) => c.id === 'front')).not.toHaveProperty('allowedOrigins');
    const tenants = (await call('GET', '/api/v1/connectors', editor)).body as { id: string; allowedOrigins?: string[] }[];
    expect(tenants.find((c) => c.id === 'front')?.allowedOrigins).toEqual([front.url]);
    expect(tenants.map((c) => c.id)).toContain('frontline');

    const grant = await api.credport.connect.authenticate(bearer);
    expect(withAccess(grant as Access, () => api.credport.connectors.list())).toEqual(summaries);
    expect(token).not.toBe(bearer);
  });

  it('reads the form of its connectors; any other connector is not found, in the words an unknown one gets', async () => {
    const { bearer } = await bearerFor({ connectors: ['front'] });
    const form = await call('GET', '/api/v1/connectors/front/form', bearer);
    expect(form.status).toBe(200);
    expect(form.body).toMatchObject({ id: 'front', title: 'Front', form: { schema: { type: 'object' } } });

    const other = await call('GET', '/api/v1/connectors/frontline/form', bearer);
    const unknown = await call('GET', '/api/v1/connectors/no-such-one/form', bearer);
    expect([other.status, unknown.status]).toEqual([404, 404]);
    expect((other.body as { detail: string }).detail).toBe('unknown connector "frontline" (known: front)');
    expect((unknown.body as { detail: string }).detail).toBe('unknown connector "no-such-one" (known: front)');
    // The host's own token still reads it.
    expect((await call('GET', '/api/v1/connectors/frontline/form', editor)).status).toBe(200);
  });

  it("lists credentials by one of its connectors only: any other is unknown, and the refusal names its session's connectors alone", async () => {
    const { bearer } = await bearerFor({ connectors: ['front'] });
    expect((await call('GET', '/api/v1/credentials?connector=front', bearer)).status).toBe(200);
    const other = await call('GET', '/api/v1/credentials?connector=frontline', bearer);
    const unknown = await call('GET', '/api/v1/credentials?connector=no-such-one', bearer);
    expect([other.status, unknown.status]).toEqual([400, 400]);
    // As the catalog says it: the operator's other connectors are not the end user's to learn of.
    expect(other.body).toMatchObject({
      code: 'unknown_connector',
      field: '/query/connector',
      detail: 'unknown connector "frontline" (known: front)',
    });
    expect((unknown.body as { detail: string }).detail).toBe('unknown connector "no-such-one" (known: front)');
    // The host's own token still lists by any connector.
    expect((await call('GET', '/api/v1/credentials?connector=frontline', editor)).status).toBe(200);
  });
});

describe('baseUrlField: whether the caller may point a credential at another origin', () => {
  const field = async (token: string, connector: string) => {
    const answer = await call('GET', `/api/v1/connectors/${connector}/form`, token);
    expect(answer.status).toBe(200);
    return (answer.body as { baseUrlField: boolean }).baseUrlField;
  };

  it('is true for the operator everywhere, and for a tenant or a bearer only where the operator allowed origins for the connector', async () => {
    const { bearer } = await bearerFor({ connectors: ['front', 'frontline'] });
    expect({
      operator: [await field(API_TOKEN, 'front'), await field(API_TOKEN, 'frontline')],
      tenant: [await field(editor, 'front'), await field(editor, 'frontline')],
      bearer: [await field(bearer, 'front'), await field(bearer, 'frontline')],
    }).toEqual({ operator: [true, true], tenant: [true, false], bearer: [true, false] });
  });

  it('an allowance for every connector opens the field to tenants for each', async () => {
    api.credport.outbound.allow('https://api.example.com');
    expect([await field(editor, 'frontline'), await field(editor, 'frontegg')]).toEqual([true, true]);
  });

  it("a bearer's base URL outside the policy is refused on /baseUrl, before the provider hears of it, with the store unchanged", async () => {
    const { id, bearer } = await bearerFor({ connectors: ['front', 'frontline'], mode: 'create' });
    const before = front.requests;
    // Front's allowance tried for Frontline, this machine by another name or port, a lookalike host, the metadata address.
    const tries: [string, string][] = [
      ['frontline', front.url],
      ['front', front.url.replace('127.0.0.1', 'localhost')],
      ['front', front.url.replace('127.0.0.1', '[::1]')],
      ['front', `http://127.0.0.1:${Number(new URL(front.url).port) + 1}`],
      ['front', 'https://api2.frontapp.com.example.net'],
      ['front', 'https://169.254.169.254'],
    ];
    for (const [connector, baseUrl] of tries) {
      const answer = await call('POST', '/api/v1/credentials', bearer, { connector, baseUrl, values: { name: 'Mine', apiKey: GOOD } });
      expect({ connector, baseUrl, status: answer.status, code: answer.body.code, field: answer.body.field }).toEqual({
        connector,
        baseUrl,
        status: 403,
        code: 'outbound_refused',
        field: '/baseUrl',
      });
    }
    expect(front.requests).toBe(before);
    expect((await call('GET', '/api/v1/credentials', editor)).body).toEqual([]);
    expect(await readSession(id)).toMatchObject({ state: 'opened' });
    expect(await readSession(id)).not.toHaveProperty('outcome');
  });
});

describe('POST /connect/selection: the tile a pick session picked', () => {
  it('completes the session with outcome picked and answers the tile; the first outcome stays; the host reads it', async () => {
    const made = await bearerFor({ connectors: ['front'], mode: 'create' });
    const own = await addFront(made.bearer, 'Pam’s Front');
    const second = await addFront(made.bearer, 'Pam’s other Front');
    const pick = await bearerFor({ connectors: ['front'] });
    const picked = await call('POST', '/api/v1/connect/selection', pick.bearer, { credentialId: own });
    expect(picked.status).toBe(200);
    expect(picked.body).toMatchObject({ id: own, connector: 'front', name: 'Pam’s Front', endUserId: 'user-42' });
    expect(JSON.stringify(picked.body)).not.toContain(GOOD);
    expect(await readSession(pick.id)).toMatchObject({ state: 'completed', outcome: { action: 'picked', credentialId: own } });
    // A second pick is answered, but the session keeps what it reported first.
    expect((await call('POST', '/api/v1/connect/selection', pick.bearer, { credentialId: second })).status).toBe(200);
    expect(await readSession(pick.id)).toMatchObject({ outcome: { action: 'picked', credentialId: own } });
  });

  it("takes only a tile the bearer lists (404 otherwise: the workspace's, another end user's, another connector's or workspace's)", async () => {
    const workspaces = await addFront(editor, 'Workspace Front');
    const globex = await addFront(await tokenOf('globex', 'editor'), 'Globex Front');
    const someoneElse = await bearerFor({ connectors: ['front'], mode: 'create', endUser: { id: 'someone-else' } });
    const theirs = await addFront(someoneElse.bearer, 'Theirs');
    const frontline = (
      await call('POST', '/api/v1/credentials', editor, {
        connector: 'frontline',
        values: { name: 'FL', apiKey: 'frontline-key-1' },
        verify: false,
      })
    ).body as { id: string };

    const pick = await bearerFor({ connectors: ['front'] });
    for (const credentialId of [workspaces, globex, theirs, frontline.id, 'cred_0123456789abcdef']) {
      const answer = await call('POST', '/api/v1/connect/selection', pick.bearer, { credentialId });
      expect({ credentialId, status: answer.status }).toEqual({ credentialId, status: 404 });
    }
    expect(await readSession(pick.id)).toMatchObject({ state: 'opened' });

    // A session that shows the workspace's credentials may pick one of its connectors', still not another workspace's.
    const wide = await bearerFor({ connectors: ['front'], showWorkspaceCredentials: true });
    expect((await call('POST', '/api/v1/connect/selection', wide.bearer, { credentialId: globex })).status).toBe(404);
    expect((await call('POST', '/api/v1/connect/selection', wide.bearer, { credentialId: frontline.id })).status).toBe(404);
    expect((await call('POST', '/api/v1/connect/selection', wide.bearer, { credentialId: workspaces })).status).toBe(200);
    expect(await readSession(wide.id)).toMatchObject({ outcome: { action: 'picked', credentialId: workspaces } });
  });

  it('is refused (403) to a create or reconnect session and to any token that is not a bearer; a malformed id is 400', async () => {
    const tile = await addFront(editor);
    const create = await bearerFor({ connectors: ['front'], mode: 'create', showWorkspaceCredentials: true });
    const reconnect = await bearerFor({ mode: 'reconnect', credentialId: tile });
    for (const token of [create.bearer, reconnect.bearer, editor, API_TOKEN]) {
      const answer = await call('POST', '/api/v1/connect/selection', token, { credentialId: tile });
      expect(answer.status).toBe(403);
    }
    expect(await readSession(reconnect.id)).toMatchObject({ state: 'opened' });
    const pick = await bearerFor({ connectors: ['front'], showWorkspaceCredentials: true });
    const malformed = await call('POST', '/api/v1/connect/selection', pick.bearer, { credentialId: 'cred_../../x' });
    expect({ status: malformed.status, field: malformed.body.field }).toEqual({ status: 400, field: '/credentialId' });
  });

  it('from the library: credport.connect.select under the grant does the same', async () => {
    const tile = await addFront(editor);
    const pick = await bearerFor({ connectors: ['front'], showWorkspaceCredentials: true });
    const grant = (await api.credport.connect.authenticate(pick.bearer)) as Access;
    expect(await withAccess(grant, () => api.credport.connect.select(tile))).toMatchObject({ id: tile });
    expect(await readSession(pick.id)).toMatchObject({ state: 'completed', outcome: { action: 'picked', credentialId: tile } });
  });
});

describe("the audit trail of a session's life", () => {
  type Event = { action: string; actor: string; outcome: string; sessionId?: string; credentialId?: string; detail?: string };
  const trail = async () => (await call('GET', '/api/v1/audit', editor)).body as Event[];

  it('records minted (the host), opened and refused replays, picked, rotated (the end user), revoked once: never a token or bearer', async () => {
    const tile = await addFront(editor);
    const session = await mint({
      connectors: ['front'],
      showWorkspaceCredentials: true,
      endUser: { id: 'user-42', email: 'pam@example.com' },
    });
    const opened = await exchange(session.token);
    const bearer = (opened.body as { bearer: string }).bearer;
    expect((await exchange(session.token)).status).toBe(410);
    expect((await call('POST', '/api/v1/connect/selection', bearer, { credentialId: tile })).status).toBe(200);
    expect((await call('DELETE', `/api/v1/connect/sessions/${session.id}`, editor)).status).toBe(200);
    expect((await call('DELETE', `/api/v1/connect/sessions/${session.id}`, editor)).status).toBe(200);
    // A guess at a token (its hash does not match) is the rate limiter's business, not the trail's.
    expect((await exchange(`${session.token.slice(0, -4)}AAAA`)).status).toBe(401);

    const events = (await trail()).filter((e) => e.sessionId === session.id);
    const host = expect.stringMatching(/^api:token:/);
    expect(events.map(({ action, actor, outcome, credentialId, detail }) => ({ action, actor, outcome, credentialId, detail }))).toEqual([
      {
        action: 'connect.session_created',
        actor: host,
        outcome: 'ok',
        credentialId: undefined,
        detail: 'pick session for end user user-42, connectors front',
      },
      { action: 'connect.session_opened', actor: 'connect:user-42', outcome: 'ok', credentialId: undefined, detail: undefined },
      {
        action: 'connect.session_opened',
        actor: 'connect:user-42',
        outcome: 'refused',
        credentialId: undefined,
        detail: 'token refused: connect_token_used',
      },
      { action: 'connect.credential_selected', actor: 'connect:user-42', outcome: 'ok', credentialId: tile, detail: undefined },
      { action: 'connect.session_revoked', actor: host, outcome: 'ok', credentialId: undefined, detail: undefined },
    ]);
    const text = JSON.stringify(await trail());
    for (const secret of [session.token, session.token.split('.')[1]!, bearer, bearer.split('.')[1]!, 'pam@example.com'])
      expect(text).not.toContain(secret);
  });

  it("a bearer's rotation (reconnect) is recorded as its end user's, like its creation", async () => {
    const tile = await addFront(editor);
    const reconnect = await bearerFor({ mode: 'reconnect', credentialId: tile, endUser: { id: 'pam' } });
    const rotated = await call('POST', `/api/v1/credentials/${tile}/rotate`, reconnect.bearer, {
      secrets: { apiKey: 'emu_other_token_0123456789abcd' },
    });
    expect(rotated.status).toBe(200);
    const events = (await call('GET', `/api/v1/audit?credential=${tile}`, editor)).body as Event[];
    expect(events).toContainEqual(expect.objectContaining({ action: 'credential.rotated', actor: 'connect:pam', outcome: 'ok' }));
  });
});
