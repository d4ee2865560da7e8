import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { withAccess } from '../../src/access/access.js';
import { type ApiAnswer, type ApiUnderTest, callApi, startApi } from '../helpers/api-server.js';

/**
 * A connect session revoked while its bearer's request is under way, over real loopback HTTP: the
 * bearer was good when the request came in, but the provider takes its time to verify the secret;
 * the host revoked the session meanwhile (its end user signed out, say). Nothing the request would
 * have saved may land after the revoke: no new credential, no rotated secret.
 */
const HOST = 'http://127.0.0.2:8080';
const OLD = 'emu_old_token_0123456789abcdef';
const NEW = 'emu_new_token_0123456789abcdef';

/** A stand-in for Front's /me that answers only when the test lets it: the window a revoke falls into. */
let provider: Server;
let providerUrl: string;
let asked: () => void = () => undefined;
let release: () => void = () => undefined;
let gate: Promise<void> = Promise.resolve();

beforeAll(async () => {
  provider = createServer((_request, res) => {
    asked();
    void gate.then(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ _links: { self: `${providerUrl}/me` }, id: 'cmp_1', name: 'Acme' }));
    });
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
});
afterAll(async () => new Promise<void>((resolve) => provider.close(() => resolve())));

let api: ApiUnderTest;
let editor: string;
beforeEach(async () => {
  api = await startApi({ open: { allowedOrigins: [`front=${providerUrl}`] } });
  editor = (await withAccess({ workspace: 'acme', role: 'admin' }, () => api.credport.tokens.create({ name: 'host', role: 'editor' })))
    .token!;
});
afterEach(async () => {
  release();
  await api.close();
});

const call = (method: string, path: string, token: string, body?: unknown): Promise<ApiAnswer> =>
  callApi(api.url, method, path, { token, ...(body !== undefined ? { body } : {}) });

async function bearerFor(body: Record<string, unknown>): Promise<{ id: string; bearer: string }> {
  const minted = await call('POST', '/api/v1/connect/sessions', editor, { endUser: { id: 'user-42' }, allowedOrigins: [HOST], ...body });
  expect(minted.status).toBe(201);
  const { id, token } = minted.body as { id: string; token: string };
  const exchanged = await fetch(`${api.url}/api/v1/connect/exchange`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  expect(exchanged.status).toBe(200);
  return { id, bearer: ((await exchanged.json()) as { bearer: string }).bearer };
}

/** Runs `request` up to the provider's check, does `meanwhile` there, then lets the provider answer. */
async function midway(meanwhile: () => Promise<void>, request: () => Promise<ApiAnswer>): Promise<ApiAnswer> {
  const reached = new Promise<void>((resolve) => (asked = resolve));
  gate = new Promise<void>((resolve) => (release = resolve));
  const pending = request();
  await reached;
  await meanwhile();
  release();
  return pending;
}

const revokedMidway = (sessionId: string, request: () => Promise<ApiAnswer>) =>
  midway(async () => {
    expect((await call('DELETE', `/api/v1/connect/sessions/${sessionId}`, editor)).status).toBe(200);
  }, request);

const realNow = Date.now;
afterEach(() => {
  Date.now = realNow;
});

describe('a connect session revoked while its bearer waits on the provider', () => {
  it('saves no credential: the add is refused as the revoked session (410), and the workspace has no new tile', async () => {
    const { id, bearer } = await bearerFor({ mode: 'create', connectors: ['front'] });
    const added = await revokedMidway(id, () =>
      call('POST', '/api/v1/credentials', bearer, { connector: 'front', baseUrl: providerUrl, values: { name: 'Support', apiKey: NEW } }),
    );
    expect(added.status).toBe(410);
    expect(added.body).toMatchObject({ code: 'connect_session_revoked' });
    expect((await call('GET', '/api/v1/credentials', editor)).body).toEqual([]);
    const session = (await call('GET', `/api/v1/connect/sessions/${id}`, editor)).body as Record<string, unknown>;
    expect(session.state).toBe('revoked');
    expect(session).not.toHaveProperty('outcome');
  });

  it('keeps the old secret: the rotate of a reconnect session is refused (410), the tile as it was', async () => {
    const added = await call('POST', '/api/v1/credentials', editor, {
      connector: 'front',
      baseUrl: providerUrl,
      verify: false,
      values: { name: 'Support', apiKey: OLD },
    });
    expect(added.status).toBe(201);
    const before = added.body as { id: string; secretHint: string; revision: number };
    const { id, bearer } = await bearerFor({ mode: 'reconnect', credentialId: before.id });
    const rotated = await revokedMidway(id, () =>
      call('POST', `/api/v1/credentials/${before.id}/rotate`, bearer, { secrets: { apiKey: NEW } }),
    );
    expect(rotated.status).toBe(410);
    expect(rotated.body).toMatchObject({ code: 'connect_session_revoked' });
    const [tile] = (await call('GET', '/api/v1/credentials', editor)).body as { secretHint: string; revision: number; status: string }[];
    expect(tile).toMatchObject({ secretHint: before.secretHint, revision: before.revision, status: 'unverified' });
  });

  it('saves nothing once the session or its bearer expired meanwhile: 410 connect_session_expired, no tile', async () => {
    // The session's own end (60 s), then the bearer's (15 minutes) within a session of an hour.
    for (const [expiresIn, later] of [
      [60, 61_000],
      [3600, 15 * 60_000 + 1000],
    ] as const) {
      const { id, bearer } = await bearerFor({ mode: 'create', connectors: ['front'], expiresIn });
      const added = await midway(
        async () => {
          Date.now = () => realNow() + later;
        },
        () =>
          call('POST', '/api/v1/credentials', bearer, {
            connector: 'front',
            baseUrl: providerUrl,
            values: { name: 'Support', apiKey: NEW },
          }),
      );
      Date.now = realNow;
      expect([id, added.status, (added.body as { code: string }).code]).toEqual([id, 410, 'connect_session_expired']);
    }
    expect((await call('GET', '/api/v1/credentials', editor)).body).toEqual([]);
  });
});
