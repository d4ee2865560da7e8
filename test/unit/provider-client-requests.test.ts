import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { AuthStrategy } from '../../src/auth/auth-strategy.js';
import { createBearerAuth } from '../../src/auth/bearer.js';
import { ProviderRejectedError, ProviderUnavailableError } from '../../src/errors.js';
import { type ClientEvent, ProviderClient } from '../../src/http/provider-client.js';
import { VERSION } from '../../src/package-info.js';
import type { Connector } from '../../src/registry/connector.js';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';
import { useNock } from '../helpers/use-nock.js';

const nock = useNock();
const FRONT = 'https://api2.frontapp.com';
const TOO_MANY = { _error: { status: 429, title: 'Too Many Requests', message: 'Please retry in 60 milliseconds' } };
let front: Connector;
beforeAll(async () => {
  front = (await ConnectorRegistry.load()).get('front');
});

function client(options: { retries?: number; auth?: AuthStrategy; credentialId?: string; baseUrl?: string } = {}) {
  const events: ClientEvent[] = [];
  const c = new ProviderClient(
    front,
    options.baseUrl ?? FRONT,
    options.auth ?? createBearerAuth('tok_client_test_1'),
    { timeoutMs: 2000, retries: options.retries ?? 2 },
    {
      onEvent: (e) => events.push(e),
      ...(options.credentialId ? { credentialId: options.credentialId } : {}),
    },
  );
  return { c, events };
}

/** A short-lived token strategy: hands out t1, then t2 after t1 is invalidated. */
function renewable(): AuthStrategy & { invalidated: string[] } {
  let n = 1;
  const invalidated: string[] = [];
  return {
    invalidated,
    authorization: async () => `Bearer t${n}`,
    secrets: () => ['secret-value'],
    invalidate(header: string) {
      invalidated.push(header);
      if (header === `Bearer t${n}`) n += 1;
    },
  };
}

describe('what every request carries', () => {
  it('names credport and its version, asks for JSON, and sends query and JSON body', async () => {
    const scope = nock(FRONT, { reqheaders: { 'user-agent': `credport/${VERSION}`, accept: 'application/json' } })
      .post('/tags?dry=1', { name: 'vip' })
      .reply(201, { id: 'tag_1' });
    const response = await client().c.request({ method: 'POST', path: 'tags', searchParams: { dry: 1 }, json: { name: 'vip' } });
    expect(response).toMatchObject({ status: 201, body: { id: 'tag_1' } });
    scope.done();
  });
});

describe('retries', () => {
  it('retries a GET on a 5xx with backoff, telling the caller why', async () => {
    nock(FRONT).get('/me').reply(503, {}).get('/me').reply(200, { id: 'c', name: 'n' });
    const { c, events } = client();
    expect((await c.request({ path: '/me' })).status).toBe(200);
    expect(events).toEqual([expect.objectContaining({ type: 'retry', attempt: 1, reason: '503' })]);
  });

  it('never re-sends a POST blindly on a 5xx: the write may have happened', async () => {
    const scope = nock(FRONT).post('/tags').once().reply(502, {});
    const { c, events } = client();
    await expect(c.request({ method: 'POST', path: '/tags', json: { name: 'x' } })).rejects.toMatchObject({ status: 502 });
    expect(events).toEqual([]);
    scope.done();
  });

  it('retries a POST answered 429, since the provider did nothing, after the wait it asked for', async () => {
    nock(FRONT).post('/tags').reply(429, TOO_MANY, { 'retry-after': '60' }).post('/tags').reply(201, { id: 't' });
    const { c, events } = client();
    expect((await c.request({ method: 'POST', path: '/tags', json: { name: 'x' } })).status).toBe(201);
    expect(events).toEqual([{ type: 'rate_limited', waitMs: 60, attempt: 1 }]);
  });

  it('backs off a random share of 250 ms doubled per attempt', async () => {
    nock(FRONT).get('/me').times(2).reply(503, {}).get('/me').reply(200, { id: 'c', name: 'n' });
    const { c, events } = client();
    const random = jest.spyOn(Math, 'random').mockReturnValue(0.5);
    try {
      expect((await c.request({ path: '/me' })).status).toBe(200);
    } finally {
      random.mockRestore();
    }
    expect(events.map((e) => e.type === 'retry' && e.waitMs)).toEqual([250, 500]);
  });

  it("waits out a fixed window's whole length for a 429 that says nothing, and retries a 429 for a client no one listens to", async () => {
    nock(FRONT).get('/me').reply(429, {});
    const abort = new AbortController();
    const waits: number[] = [];
    const c = new ProviderClient(
      front,
      FRONT,
      createBearerAuth('tok_client_test_1'),
      { timeoutMs: 2000, retries: 2 },
      {
        onEvent: (e) => {
          if (e.type === 'rate_limited') waits.push(e.waitMs);
          abort.abort();
        },
      },
    );
    await expect(c.request({ path: '/me', signal: abort.signal })).rejects.toThrow();
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(59_000);
    expect(waits[0]).toBeLessThanOrEqual(60_000);

    nock(FRONT).get('/me').reply(429, TOO_MANY, { 'retry-after': '0' }).get('/me').reply(200, { id: 'c', name: 'n' });
    const quiet = new ProviderClient(front, FRONT, createBearerAuth('tok_client_test_1'), { timeoutMs: 2000, retries: 2 });
    expect((await quiet.request({ path: '/me' })).status).toBe(200);
  });

  it('stops after the configured number of retries, 429s included', async () => {
    const scope = nock(FRONT).get('/me').times(2).reply(429, TOO_MANY, { 'retry-after': '60' });
    const { c, events } = client({ retries: 1 });
    await expect(c.request({ path: '/me' })).rejects.toMatchObject({ status: 429 });
    expect(events).toHaveLength(1);
    scope.done();
  });
});

describe('a 401', () => {
  it('renews a short-lived token once and tries again with the new one', async () => {
    nock(FRONT)
      .get('/me')
      .matchHeader('authorization', 'Bearer t1')
      .reply(401, {})
      .get('/me')
      .matchHeader('authorization', 'Bearer t2')
      .reply(200, { id: 'c', name: 'n' });
    const auth = renewable();
    expect((await client({ auth }).c.request({ path: '/me' })).status).toBe(200);
    expect(auth.invalidated).toEqual(['Bearer t1']);
  });

  it('stands after one renewal, naming the credential so a sync can mark its tile', async () => {
    const scope = nock(FRONT)
      .get('/me')
      .times(2)
      .reply(401, { _error: { status: 401, title: 'Unauthenticated', message: 'nope' } });
    const auth = renewable();
    const error = await client({ auth, credentialId: 'cred_0123456789abcdef' })
      .c.request({ path: '/me' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect(error).toMatchObject({ status: 401, credentialId: 'cred_0123456789abcdef' });
    expect(auth.invalidated).toEqual(['Bearer t1']);
    scope.done();
  });

  it('of a static token is final at once', async () => {
    const scope = nock(FRONT).get('/me').once().reply(401, {});
    await expect(client().c.request({ path: '/me' })).rejects.toBeInstanceOf(ProviderRejectedError);
    scope.done();
  });

  it('is not a 403 renewal: a missing scope is not an expired token', async () => {
    const scope = nock(FRONT).get('/me').once().reply(403, {});
    const auth = renewable();
    await expect(client({ auth }).c.request({ path: '/me' })).rejects.toMatchObject({ status: 403 });
    expect(auth.invalidated).toEqual([]);
    scope.done();
  });
});

describe('the client as the runtime sees it', () => {
  it('resolves paths below the base URL and leaves absolute URLs as they are', () => {
    const { c } = client({ baseUrl: 'https://gateway.example/front/v1/' });
    expect(c.urlFor('/me').toString()).toBe('https://gateway.example/front/v1/me');
    expect(c.urlFor('me').toString()).toBe('https://gateway.example/front/v1/me');
    expect(c.urlFor('HTTPS://acme.api.frontapp.com/x').toString()).toBe('https://acme.api.frontapp.com/x');
    expect(client({ baseUrl: 'https://gateway.example/front/v1//' }).c.urlFor('/me').toString()).toBe(
      'https://gateway.example/front/v1/me',
    );
  });

  it("says where the credential may go and what to redact, and a static token's authorizeNow has no expiry", async () => {
    const { c } = client();
    expect(c.allows(new URL('https://acme.api.frontapp.com/x'))).toBe(true);
    expect(c.allows(new URL('https://evil.example/x'))).toBe(false);
    expect(c.secrets()).toEqual(['tok_client_test_1']);
    expect(await c.authorizeNow()).toBeUndefined();
  });

  it('names the credential on a rejection while authorizing', async () => {
    const auth: AuthStrategy = {
      authorization: async () => {
        throw new ProviderRejectedError('Frontegg rejected the credential: 401', 401);
      },
      secrets: () => [],
    };
    await expect(client({ auth, credentialId: 'cred_0123456789abcdef' }).c.authorizeNow()).rejects.toMatchObject({
      credentialId: 'cred_0123456789abcdef',
    });
  });

  it('names the credential only on a refusal, not on an outage, which is no fault of the credential', async () => {
    nock(FRONT).get('/me').reply(503, {});
    const outage = await client({ retries: 0, credentialId: 'cred_0123456789abcdef' })
      .c.request({ path: '/me' })
      .catch((e: unknown) => e);
    expect(outage).toBeInstanceOf(ProviderUnavailableError);
    expect(Object.hasOwn(outage as object, 'credentialId')).toBe(false);
    const auth: AuthStrategy = {
      authorization: async () => {
        throw new ProviderUnavailableError('Frontegg answered POST /token with 503');
      },
      secrets: () => [],
    };
    const exchange = await client({ auth, credentialId: 'cred_0123456789abcdef' })
      .c.authorizeNow()
      .catch((e: unknown) => e);
    expect(exchange).toBeInstanceOf(ProviderUnavailableError);
    expect(Object.hasOwn(exchange as object, 'credentialId')).toBe(false);
  });

  it('reports an answer that is not JSON as unexpected', async () => {
    nock(FRONT).get('/me').reply(200, '<html>login</html>', { 'content-type': 'text/html' });
    await expect(client({ retries: 0 }).c.request({ path: '/me' })).rejects.toMatchObject({ code: 'provider_unexpected', status: 200 });
  });
});

describe('an unavailable provider', () => {
  it('is retried on a refused connection, then named with its origin and the error code', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    nock.enableNetConnect('127.0.0.1');
    try {
      const { c, events } = client({ retries: 1, baseUrl: origin });
      const error = await c.request({ path: '/me' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error).toMatchObject({ code: 'provider_unreachable', message: `could not reach Front at ${origin}: ECONNREFUSED` });
      expect(events).toEqual([expect.objectContaining({ type: 'retry', attempt: 1, reason: 'ECONNREFUSED' })]);
    } finally {
      nock.disableNetConnect();
    }
  });
});
