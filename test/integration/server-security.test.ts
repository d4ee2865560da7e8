import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Credport } from '../../src/open-credport.js';
import type { LoginSessions } from '../../src/server/login-sessions.js';
import { API_TOKEN, type ApiUnderTest, startApi } from '../helpers/api-server.js';
import { type RawAnswer, rawRequest } from '../helpers/raw-http.js';

/** The HTTP API attacked over real loopback HTTP: Host headers, rate-limit keys, framework errors. */
let api: ApiUnderTest;
let credport: Credport;
let sessions: LoginSessions;
let port: number;

beforeEach(async () => {
  api = await startApi({ server: { verifyLimit: { max: 3, timeWindow: 60_000 } } });
  ({ credport, sessions, port } = api);
});
afterEach(() => api.close());

/** node:http, not fetch: fetch will not send a Host header of the caller's choosing. */
const call = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<RawAnswer> =>
  rawRequest(`http://127.0.0.1:${port}`, method, path, { headers, body });

const bearer = { authorization: `Bearer ${API_TOKEN}` };

describe('DNS rebinding', () => {
  it('refuses a loopback connection whose Host names another site, before auth and before the login code is spent', async () => {
    for (const host of ['attacker.example', `attacker.example:${port}`, 'localhost.attacker.example', `user@127.0.0.1:${port}`]) {
      const api = await call('GET', '/api/v1/connectors', { ...bearer, host });
      expect(api.status).toBe(403);
      expect(api.body).toMatchObject({ code: 'host_not_allowed', status: 403 });
      expect(api.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    }
    const code = sessions.loginCode;
    const login = await call('POST', '/api/v1/session', { host: `rebound.attacker.example:${port}` }, { code });
    expect(login.status).toBe(403);
    expect(login.body.token).toBeUndefined();
    expect(sessions.loginCode).toBe(code);
  });

  it('answers the loopback names as before', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, '127.0.0.1']) {
      expect((await call('GET', '/api/v1/connectors', { ...bearer, host })).status).toBe(200);
    }
  });
});

describe('rate limits', () => {
  const unverified = (i: number) => ({
    connector: 'front',
    verify: false,
    values: { name: `Tile ${i}`, apiKey: 'eyJabc.defghijklmnopqrstuvwxyz0123.0123456789abcdef' },
  });

  it('counts per authenticated caller: a token holder cannot dodge the verify limit with a fresh cookie each time', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await call('POST', '/api/v1/credentials', { ...bearer, cookie: `credport_session=fresh${i}` }, unverified(i))).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const refused = await call('POST', '/api/v1/credentials', bearer, unverified(9));
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(await credport.credentials.list()).toHaveLength(3);
  });

  it('counts login attempts per code: 50 wrong codes from this address do not lock the real code out', async () => {
    for (let i = 0; i < 50; i++) expect((await call('POST', '/api/v1/session', {}, { code: `wrong-${i}` })).status).toBe(401);
    const login = await call('POST', '/api/v1/session', {}, { code: sessions.loginCode });
    expect(login.status).toBe(201);
    expect(login.body.token).toMatch(/^cps_/);
  });

  it('stops hammering one code after 20 tries a minute, and only that code', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await call('POST', '/api/v1/session', {}, { code: 'guess' })).status);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses[20]).toBe(429);
    expect((await call('POST', '/api/v1/session', {}, { code: sessions.loginCode })).status).toBe(201);
  });

  it("does not let unauthenticated requests spend the token holder's budget", async () => {
    for (let i = 0; i < 5; i++)
      expect(
        (await call('POST', '/api/v1/credentials', { authorization: 'Bearer wrong-token-0123456789abcdef' }, unverified(i))).status,
      ).toBe(401);
    expect((await call('POST', '/api/v1/credentials', bearer, unverified(0))).status).toBe(201);
  });
});

describe('answers no route or router gives', () => {
  it('answers a URL the router cannot decode, and a miss outside /api, as problem details with the security headers, echoing nothing', async () => {
    for (const path of ['/api/v1/credentials/%zz-SECRET', '/%E0%A4%A-SECRET', '/no-such-page-SECRET?x=1']) {
      const answer = await call('GET', path, bearer);
      expect([400, 404]).toContain(answer.status);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
      expect(answer.body).toMatchObject({ status: answer.status });
      expect(answer.text).not.toContain('SECRET');
    }
  });

  it('sends no CORS header, to a preflight or to a cross-origin request', async () => {
    const preflight = await call('OPTIONS', '/api/v1/credentials', {
      origin: 'https://attacker.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization',
    });
    const cross = await call('GET', '/api/v1/credentials', { ...bearer, origin: 'https://attacker.example' });
    for (const answer of [preflight, cross]) {
      expect(Object.keys(answer.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
  });
});

describe('signing out', () => {
  async function signIn(): Promise<string> {
    const login = await call('POST', '/api/v1/session', {}, { code: sessions.loginCode });
    return login.body.token;
  }

  it("ends the session whose token the request carries, never from another origin's page", async () => {
    const session = { authorization: `Bearer ${await signIn()}` };
    for (const origin of [`http://127.0.0.1:${port + 1}`, 'null']) {
      const refused = await call('DELETE', '/api/v1/session', { ...session, origin });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('cross_site_request');
    }
    expect((await call('GET', '/api/v1/credentials', session)).status).toBe(200);
    // The API token is not a session: it is revoked elsewhere, and signing out does not touch it.
    expect((await call('DELETE', '/api/v1/session', bearer)).status).toBe(400);
    expect((await call('DELETE', '/api/v1/session', { ...session, origin: `http://127.0.0.1:${port}` })).status).toBe(204);
    expect((await call('GET', '/api/v1/credentials', session)).status).toBe(401);
    expect((await call('DELETE', '/api/v1/session', session)).status).toBe(401);
  });
});

describe('behind a proxy', () => {
  it('believes X-Forwarded-Proto and X-Forwarded-Host from nobody unless told (--trust-proxy)', async () => {
    const token = (await call('POST', '/api/v1/session', {}, { code: sessions.loginCode })).body.token;
    const unverified = {
      connector: 'front',
      verify: false,
      values: { name: 'Forwarded', apiKey: 'eyJabc.defghijklmnopqrstuvwxyz0123.0123456789abcdef' },
    };
    const forwarded = await call(
      'POST',
      '/api/v1/credentials',
      {
        authorization: `Bearer ${token}`,
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'credport.example.com',
        origin: 'https://credport.example.com',
      },
      unverified,
    );
    expect(forwarded.status).toBe(403);
    expect(forwarded.body.code).toBe('cross_site_request');
    expect(
      (
        await call(
          'POST',
          '/api/v1/credentials',
          { authorization: `Bearer ${token}`, 'x-forwarded-proto': 'https', origin: `http://127.0.0.1:${port}` },
          unverified,
        )
      ).status,
    ).toBe(201);
  });
});
