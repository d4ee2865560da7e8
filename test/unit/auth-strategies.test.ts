import { beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createAuth } from '../../src/auth/create-auth.js';
import { createBearerAuth } from '../../src/auth/bearer.js';
import { createTokenExchangeAuth } from '../../src/auth/token-exchange.js';
import { InputError, ProviderRejectedError, ProviderUnavailableError } from '../../src/errors.js';
import type { ConnectorManifest } from '../../src/generated/connector-manifest.js';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';
import { useNock } from '../helpers/use-nock.js';

const nock = useNock();
const FRONTEGG = 'https://api.frontegg.com';
const EXCHANGE = '/identity/resources/auth/v2/api-token';
let registry: ConnectorRegistry;
beforeAll(async () => {
  registry = await ConnectorRegistry.load();
});
const fronteggManifest = () => registry.get('frontegg').manifest;
const exchangeAuth = (values: Record<string, string> = { clientId: 'client-1', secret: 'the-secret-key' }) =>
  createTokenExchangeAuth(
    fronteggManifest().auth.exchange!,
    values,
    { baseUrl: FRONTEGG, provider: 'Frontegg', envelope: fronteggManifest().errors, timeoutMs: 2000 },
    'secret',
  );

describe('the Bearer strategy', () => {
  it('sends the token as it is and names it as a secret', async () => {
    const auth = createBearerAuth('tok_0123456789');
    expect(await auth.authorization()).toBe('Bearer tok_0123456789');
    expect(auth.secrets()).toEqual(['tok_0123456789']);
  });

  // A CR/LF anywhere in a header value lets a token smuggle another header in.
  it.each([
    ['a line break at the end', 'tok_123\r\nX-Evil: 1'],
    ['a line break at the start', '\r\nX-Evil:1\r\ntok_123'],
    ['a space inside', 'tok 123'],
    ['a non-ASCII character', 'tok_123é'],
    ['nothing', ''],
  ])('refuses a token with %s, naming the field', (_what, token) => {
    const error = (() => {
      try {
        createBearerAuth(token);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ field: 'token', message: 'the token must be visible ASCII without spaces or line breaks' });
  });
});

describe('the strategy a manifest names', () => {
  it('is a Bearer token for a bearer connector', async () => {
    const auth = createAuth(registry.get('front').manifest, { apiKey: 'front_token_123' }, 'https://api2.frontapp.com', 2000);
    expect(await auth.authorization()).toBe('Bearer front_token_123');
    expect(auth.invalidate).toBeUndefined();
  });

  it("is a token exchange against the credential's own origin for a token-exchange connector", async () => {
    const scope = nock('https://acme.frontegg.com', { badheaders: ['authorization'] })
      .post(EXCHANGE, { clientId: 'c-1', secret: 's3cret-key' })
      .reply(200, { access_token: 'at_9', expires_in: 60 });
    const auth = createAuth(fronteggManifest(), { clientId: 'c-1', secret: 's3cret-key' }, 'https://acme.frontegg.com/some/path', 2000);
    expect(await auth.authorization()).toBe('Bearer at_9');
    expect(auth.secrets()).toEqual(['s3cret-key', 'at_9']);
    scope.done();
  });

  it('refuses a token-exchange manifest that does not say how to exchange', () => {
    const manifest = { ...fronteggManifest(), id: 'broken', auth: { strategy: 'token-exchange', secret: 'secret' } } as ConnectorManifest;
    expect(() => createAuth(manifest, { secret: 'x' }, FRONTEGG, 2000)).toThrow('connector broken: token-exchange needs auth.exchange');
  });
});

describe('the token exchange', () => {
  it('exchanges once while the token is fresh, however often it is asked', async () => {
    const scope = nock(FRONTEGG).post(EXCHANGE).once().reply(200, { access_token: 'at_1', expires_in: 3600 });
    const auth = exchangeAuth();
    expect(await auth.authorization()).toBe('Bearer at_1');
    expect(await auth.authorization()).toBe('Bearer at_1');
    expect(await Promise.all([auth.authorization(), auth.authorization()])).toEqual(['Bearer at_1', 'Bearer at_1']);
    scope.done();
  });

  it('runs one exchange for many concurrent requests, and a new one after it settled and the token was refused', async () => {
    const scope = nock(FRONTEGG)
      .post(EXCHANGE)
      .delay(50)
      .reply(200, { access_token: 'at_a', expires_in: 3600 })
      .post(EXCHANGE)
      .reply(200, { access_token: 'at_b', expires_in: 3600 });
    const auth = exchangeAuth();
    expect(await Promise.all([auth.authorization(), auth.authorization(), auth.authorization()])).toEqual([
      'Bearer at_a',
      'Bearer at_a',
      'Bearer at_a',
    ]);
    auth.invalidate!('Bearer at_a');
    expect(await auth.authorization()).toBe('Bearer at_b');
    scope.done();
  });

  it('ignores the refusal of a token already replaced (one renewal for many stale 401s)', async () => {
    const scope = nock(FRONTEGG).post(EXCHANGE).once().reply(200, { access_token: 'at_new', expires_in: 3600 });
    const auth = exchangeAuth();
    await auth.authorization();
    auth.invalidate!('Bearer at_old');
    expect(await auth.authorization()).toBe('Bearer at_new');
    scope.done();
  });

  it('names the secret and every token it issued as secrets, so errors can redact them', async () => {
    nock(FRONTEGG)
      .post(EXCHANGE)
      .reply(200, { access_token: 'at_first', expires_in: 3600 })
      .post(EXCHANGE)
      .reply(200, { access_token: 'at_second', expires_in: 3600 });
    const auth = exchangeAuth();
    expect(auth.secrets()).toEqual(['the-secret-key']);
    await auth.authorization();
    auth.invalidate!('Bearer at_first');
    await auth.authorization();
    expect(auth.secrets()).toEqual(['the-secret-key', 'at_first', 'at_second']);
    expect(auth.expiresAt!()).toBeGreaterThan(Date.now());
  });

  it('has no expiry before its first exchange', () => {
    expect(exchangeAuth().expiresAt!()).toBeUndefined();
  });

  it('sends an empty value for a body field the credential lacks', async () => {
    const scope = nock(FRONTEGG).post(EXCHANGE, { clientId: 'client-1', secret: '' }).reply(200, { access_token: 'at_1', expires_in: 60 });
    const auth = exchangeAuth({ clientId: 'client-1' });
    expect(auth.secrets()).toEqual(['']);
    await auth.authorization();
    scope.done();
  });

  it.each([
    ['no token', { expires_in: 60 }],
    ['an empty token', { access_token: '', expires_in: 60 }],
    ['no lifetime', { access_token: 'at_1' }],
    ['a lifetime that is not a number', { access_token: 'at_1', expires_in: '60' }],
  ])("refuses an answer with %s as the provider's fault", async (_what, answer) => {
    nock(FRONTEGG).post(EXCHANGE).reply(200, answer);
    const error = await exchangeAuth()
      .authorization()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({
      code: 'provider_unexpected',
      message: 'Frontegg answered the token exchange without a usable access token and lifetime',
    });
  });

  it('keeps a token at least 5 seconds, and renews it a tenth of its lifetime early, at most a minute early', async () => {
    for (const [announced, kept] of [
      [1, 4_500],
      [60, 54_000],
      [3600, 3_540_000],
    ] as const) {
      nock(FRONTEGG)
        .post(EXCHANGE)
        .reply(200, { access_token: `at_${announced}`, expires_in: announced });
      const auth = exchangeAuth();
      const before = Date.now();
      await auth.authorization();
      expect(auth.expiresAt!()).toBeGreaterThanOrEqual(before + kept);
      expect(auth.expiresAt!()).toBeLessThanOrEqual(Date.now() + kept);
    }
  });

  it('exchanges again once the token is due for renewal, not before', async () => {
    const scope = nock(FRONTEGG)
      .post(EXCHANGE)
      .reply(200, { access_token: 'at_1', expires_in: 60 })
      .post(EXCHANGE)
      .reply(200, { access_token: 'at_2', expires_in: 60 });
    const auth = exchangeAuth();
    expect(await auth.authorization()).toBe('Bearer at_1');
    const due = auth.expiresAt!()!;
    const now = jest.spyOn(Date, 'now');
    try {
      now.mockReturnValue(due - 1);
      expect(await auth.authorization()).toBe('Bearer at_1');
      now.mockReturnValue(due);
      expect(await auth.authorization()).toBe('Bearer at_2');
    } finally {
      now.mockRestore();
    }
    scope.done();
  });

  it('names only the last 8 tokens it issued as secrets, beside the secret', async () => {
    const auth = exchangeAuth();
    for (let i = 1; i <= 10; i++) {
      nock(FRONTEGG)
        .post(EXCHANGE)
        .reply(200, { access_token: `at_${i}`, expires_in: 3600 });
      auth.invalidate!(await auth.authorization());
    }
    expect(auth.secrets()).toEqual(['the-secret-key', 'at_3', 'at_4', 'at_5', 'at_6', 'at_7', 'at_8', 'at_9', 'at_10']);
  });

  it('takes a refusal before any exchange in its stride', () => {
    expect(() => exchangeAuth().invalidate!('Bearer at_x')).not.toThrow();
  });

  it('retries a failed exchange once, and only once', async () => {
    nock(FRONTEGG).post(EXCHANGE).reply(503).post(EXCHANGE).reply(200, { access_token: 'at_1', expires_in: 60 });
    expect(await exchangeAuth().authorization()).toBe('Bearer at_1');
    const scope = nock(FRONTEGG).post(EXCHANGE).times(2).reply(503).post(EXCHANGE).reply(200, { access_token: 'at_2', expires_in: 60 });
    await expect(exchangeAuth().authorization()).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(scope.pendingMocks()).toHaveLength(1);
  });

  it('never follows a redirect with the secret in its body', async () => {
    nock(FRONTEGG).post(EXCHANGE).reply(307, '', { location: 'https://elsewhere.example/steal' });
    const elsewhere = nock('https://elsewhere.example').post('/steal').reply(200, { access_token: 'at_stolen', expires_in: 60 });
    await expect(exchangeAuth().authorization()).rejects.toThrow();
    expect(elsewhere.isDone()).toBe(false);
  });

  it("reports a refused exchange as the provider's rejection of a POST, with the secret redacted", async () => {
    nock(FRONTEGG)
      .post(EXCHANGE)
      .reply(401, { errors: ['Invalid secret the-secret-key'] });
    const error = await exchangeAuth()
      .authorization()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect((error as Error).message).toContain(`(POST ${EXCHANGE})`);
    expect((error as Error).message).toContain('Invalid secret ***');
    expect((error as Error).message).not.toContain('the-secret-key');
  });
});
