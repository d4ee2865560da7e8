import { inspect } from 'node:util';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { createBearerAuth } from '../../src/auth/bearer.js';
import { OriginRefusedError, ProviderRejectedError, ProviderUnavailableError } from '../../src/errors.js';
import { checkBaseUrl } from '../../src/http/origin-policy.js';
import { type ClientEvent, ProviderClient } from '../../src/http/provider-client.js';
import { RateGate } from '../../src/http/rate-gate.js';
import type { Connector } from '../../src/registry/connector.js';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';
import { fakeToken } from '../helpers/temp-home.js';
import { useNock } from '../helpers/use-nock.js';

const nock = useNock();
const FRONT = 'https://api2.frontapp.com';
let front: Connector;
beforeAll(async () => {
  front = (await ConnectorRegistry.load()).get('front');
});

const client = (token: string, options: { baseUrl?: string; timeoutMs?: number; retries?: number } = {}) =>
  new ProviderClient(front, options.baseUrl ?? FRONT, createBearerAuth(token), {
    timeoutMs: options.timeoutMs ?? 2000,
    retries: options.retries ?? 0,
  });

/** What Node's socket or resolver raises (nock needs an Error, not a plain object, to keep its code). */
const networkError = (code: string, message: string) => Object.assign(new Error(message), { code });

/** Everything a careless log line could print of an error. */
function everyRendering(error: unknown): string {
  const e = error as Error;
  return [
    e.message,
    e.stack,
    String(e),
    inspect(e, { depth: 10, showHidden: true }),
    JSON.stringify(e),
    JSON.stringify(Object.getOwnPropertyDescriptors(e)),
  ].join('\n');
}

describe('the Bearer header', () => {
  it('is added to every request to the credential origin', async () => {
    const token = fakeToken();
    const scope = nock(FRONT)
      .matchHeader('authorization', `Bearer ${token}`)
      .get('/me')
      .reply(200, { _links: {}, id: 'cmp_1', name: 'Acme' });
    const response = await client(token).request({ path: '/me' });
    expect(response.body).toEqual({ _links: {}, id: 'cmp_1', name: 'Acme' });
    scope.done();
  });

  it("goes to a company's own host (<company>.api.frontapp.com), which Front's pagination links use", async () => {
    const token = fakeToken();
    const scope = nock('https://acme.api.frontapp.com')
      .matchHeader('authorization', `Bearer ${token}`)
      .get('/contacts?page_token=abc')
      .reply(200, { _results: [] });
    await client(token).request({ path: 'https://acme.api.frontapp.com/contacts?page_token=abc' });
    scope.done();
  });

  it('joins paths below a base URL with a path prefix', async () => {
    const token = fakeToken();
    const scope = nock('https://gateway.example').get('/front/v1/me').reply(200, { id: 'x', name: 'y' });
    await client(token, { baseUrl: 'https://gateway.example/front/v1' }).request({ path: '/me' });
    scope.done();
  });
});

describe('the token goes only where it belongs', () => {
  it.each([
    ['a foreign host', 'https://evil.example/collect'],
    ['a look-alike suffix', 'https://acme.api.frontapp.com.evil.example/x'],
    ['two labels under the wildcard', 'https://a.b.api.frontapp.com/x'],
    ['plain HTTP to an allowed host', 'http://acme.api.frontapp.com/x'],
    ['another port of an allowed host', 'https://acme.api.frontapp.com:8443/x'],
  ])('refuses %s before sending anything', async (_what, url) => {
    const token = fakeToken();
    const host = new URL(url);
    const trap = nock(host.origin).get(host.pathname).reply(200, {});
    const error = await client(token)
      .request({ path: url })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OriginRefusedError);
    expect((error as Error).message).toContain('refused to send the Front credential to');
    expect(trap.isDone()).toBe(false);
    expect(everyRendering(error)).not.toContain(token);
  });

  it("refuses a company host to a credential on another origin (a proxy): the manifest's hosts are Front's own origin's", async () => {
    const token = fakeToken();
    const trap = nock('https://yourcompany.api.frontapp.com').get('/contacts').query(true).reply(200, { _results: [] });
    const error = await client(token, { baseUrl: 'https://front-proxy.example' })
      .request({ path: 'https://yourCompany.api.frontapp.com/contacts?page_token=e0b5767cb0f1100743d46f67fcd765caac2ed' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OriginRefusedError);
    expect(trap.isDone()).toBe(false);
  });

  it('refuses to follow a redirect to a foreign host with the token', async () => {
    const token = fakeToken();
    nock(FRONT).get('/me').reply(302, '', { location: 'https://evil.example/steal' });
    const trap = nock('https://evil.example').get('/steal').reply(200, {});
    const error = await client(token)
      .request({ path: '/me' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OriginRefusedError);
    expect(trap.isDone()).toBe(false);
  });

  it('refuses a redirect that only downgrades the scheme (got keeps the header on those)', async () => {
    const token = fakeToken();
    nock(FRONT).get('/me').reply(301, '', { location: 'http://api2.frontapp.com/me' });
    const trap = nock('http://api2.frontapp.com').get('/me').reply(200, {});
    await expect(client(token).request({ path: '/me' })).rejects.toBeInstanceOf(OriginRefusedError);
    expect(trap.isDone()).toBe(false);
  });

  it('follows a redirect within the allowed hosts, token and all', async () => {
    const token = fakeToken();
    nock(FRONT).get('/me').reply(302, '', { location: 'https://acme.api.frontapp.com/me' });
    const scope = nock('https://acme.api.frontapp.com')
      .matchHeader('authorization', `Bearer ${token}`)
      .get('/me')
      .reply(200, { id: 'cmp', name: 'n' });
    await client(token).request({ path: '/me' });
    scope.done();
  });
});

describe('errors leave the client redacted', () => {
  it("turns a 401 into a rejection quoting Front's _error title and message, and nothing of the token", async () => {
    const token = fakeToken();
    nock(FRONT)
      .get('/me')
      .reply(401, { _error: { status: 401, title: 'Unauthenticated', message: 'Invalid token' } });
    const error = await client(token)
      .request({ path: '/me' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect((error as Error).message).toBe('Front rejected the credential: 401 Unauthenticated: Invalid token (GET /me)');
    expect(everyRendering(error)).not.toContain(token);
    expect(everyRendering(error)).not.toMatch(/authorization/i);
  });

  it('redacts the token when a provider echoes it back in its error message', async () => {
    const token = fakeToken();
    nock(FRONT)
      .get('/me')
      .reply(403, { _error: { status: 403, title: 'Forbidden', message: `token ${token} lacks scope` } });
    const error = await client(token)
      .request({ path: '/me' })
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain('token *** lacks scope');
    expect(everyRendering(error)).not.toContain(token);
  });

  it('reports a 5xx as the provider being unavailable, with its status', async () => {
    const token = fakeToken();
    nock(FRONT)
      .get('/me')
      .reply(503, { _error: { status: 503, title: 'Service Unavailable', message: 'Try later' } });
    const error = await client(token)
      .request({ path: '/me' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({ status: 503, exitCode: 4 });
    expect((error as Error).message).toBe('Front answered GET /me with 503 Service Unavailable: Try later');
    expect(everyRendering(error)).not.toContain(token);
  });

  it('retries a 5xx when retries are allowed, then succeeds', async () => {
    const token = fakeToken();
    nock(FRONT).get('/me').reply(502, 'bad gateway').get('/me').reply(200, { id: 'c', name: 'n' });
    const response = await client(token, { retries: 1 }).request({ path: '/me' });
    expect(response.status).toBe(200);
  });

  it('fails at once on a host name that does not resolve (ENOTFOUND), naming the host, instead of retrying it', async () => {
    const token = fakeToken();
    const scope = nock('https://nowhere.api.frontapp.com')
      .get('/me')
      .times(9)
      .replyWithError(networkError('ENOTFOUND', 'getaddrinfo ENOTFOUND nowhere.api.frontapp.com'));
    const retries: ClientEvent[] = [];
    const started = Date.now();
    const error = await new ProviderClient(
      front,
      'https://nowhere.api.frontapp.com',
      createBearerAuth(token),
      { timeoutMs: 2000, retries: 8 },
      { onEvent: (e) => retries.push(e) },
    )
      .request({ path: '/me' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toBe(
      'could not reach Front at https://nowhere.api.frontapp.com: the host name nowhere.api.frontapp.com does not resolve (ENOTFOUND), which retrying would not change',
    );
    expect(retries).toEqual([]);
    expect(scope.pendingMocks()).toHaveLength(1); // one attempt taken of the nine offered
    expect(Date.now() - started).toBeLessThan(1000);
    expect(everyRendering(error)).not.toContain(token);
  });

  it.each(['EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT'])('keeps retrying a transient network error (%s)', async (code) => {
    const retries: ClientEvent[] = [];
    nock(FRONT)
      .get('/me')
      .replyWithError(networkError(code, `${code} (injected)`))
      .get('/me')
      .reply(200, { id: 'c', name: 'n' });
    const response = await new ProviderClient(
      front,
      FRONT,
      createBearerAuth(fakeToken()),
      { timeoutMs: 2000, retries: 2 },
      { onEvent: (e) => retries.push(e) },
    ).request({ path: '/me' });
    expect(response.status).toBe(200);
    expect(retries).toMatchObject([{ type: 'retry', attempt: 1, reason: code }]);
  });

  it('reports a network failure without the token', async () => {
    const token = fakeToken();
    nock(FRONT).get('/me').replyWithError(`socket hang up ${token}`);
    const error = await client(token)
      .request({ path: '/me' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(everyRendering(error)).not.toContain(token);
  });
});

describe('a base URL for the credential', () => {
  it.each([
    'https://api2.frontapp.com',
    'http://127.0.0.1:8080',
    'http://localhost:3000/',
    'http://[::1]:9000',
    'https://eu.example.com/api/v1',
  ])('accepts %s', (url) => {
    expect(() => checkBaseUrl(url)).not.toThrow();
  });

  it.each([
    ['plain HTTP to a public host', 'http://api2.frontapp.com'],
    ['plain HTTP to a private address', 'http://10.0.0.5'],
    ['a loopback look-alike', 'http://127.0.0.1.evil.example'],
    ['user info', 'https://user:pass@api2.frontapp.com'],
    ['a query', 'https://api2.frontapp.com?x=1'],
    ['another scheme', 'ftp://127.0.0.1'],
    ['not a URL', 'api2.frontapp.com'],
  ])('refuses %s, naming the field', (_what, url) => {
    expect(() => checkBaseUrl(url)).toThrow(/base URL \(baseUrl\)/);
  });
});

describe("Frontline's fixed 60-second window", () => {
  const FRONTLINE = 'https://prod-api.getfrontline.ai/public/v1';

  it('waits after a 429 without Retry-After until the window the client saw open ends, not a guessed second', async () => {
    const frontline = (await ConnectorRegistry.load()).get('frontline');
    let offset = 0;
    const gate = new RateGate(() => Date.now() + offset);
    const events: ClientEvent[] = [];
    const api = new ProviderClient(
      frontline,
      FRONTLINE,
      createBearerAuth(fakeToken()),
      { timeoutMs: 2000, retries: 1 },
      { gate, onEvent: (e) => events.push(e) },
    );
    const limits = (remaining: number) => ({ 'X-RateLimit-Limit': '1000', 'X-RateLimit-Remaining': String(remaining) });
    const scope = nock('https://prod-api.getfrontline.ai')
      .get('/public/v1/agents')
      .reply(200, { results: [] }, limits(999))
      .get('/public/v1/workflows')
      .reply(429, { ok: false, error: { code: 'rate_limited', message: 'Too many requests' } }, limits(0))
      .get('/public/v1/workflows')
      .reply(200, { results: [{ id: 1 }] }, limits(999));
    await api.request({ path: '/agents' });
    offset = 59_700; // by the gate's clock, the window that opened with /agents ends in 300 ms
    const answer = await api.request<{ results: unknown[] }>({ path: '/workflows' });
    expect(answer.body.results).toEqual([{ id: 1 }]);
    const waits = events.filter((e) => e.type === 'rate_limited').map((e) => e.waitMs);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(50);
    expect(waits[0]).toBeLessThanOrEqual(300);
    scope.done();
  });
});
