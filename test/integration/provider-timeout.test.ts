import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createBearerAuth } from '../../src/auth/bearer.js';
import { createTokenExchangeAuth } from '../../src/auth/token-exchange.js';
import { ProviderUnavailableError } from '../../src/errors.js';
import { ProviderClient } from '../../src/http/provider-client.js';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';
import { FakeFront } from '../helpers/fake-front.js';
import { fakeToken } from '../helpers/temp-home.js';

// No nock in this file: its interceptor turns got's timeout into an unhandled error.
let front: FakeFront;
beforeAll(async () => {
  front = await FakeFront.start();
  front.mode = 'hang';
});
afterAll(() => front.close());

describe('a provider that does not answer', () => {
  it('is reported as not answering in time, naming the request, within the timeout', async () => {
    const connector = (await ConnectorRegistry.load()).get('front');
    const token = fakeToken();
    const client = new ProviderClient(connector, front.url, createBearerAuth(token), { timeoutMs: 100, retries: 0 });
    const started = Date.now();
    const error = await client.request({ path: '/me' }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({ code: 'provider_timeout', exitCode: 4 });
    expect((error as Error).message).toMatch(/^Front did not answer GET \/me in time \(.*100ms.*\)$/);
    expect(JSON.stringify(error)).not.toContain(token);
  });

  it('is a token exchange that gives up within its timeout (and its one retry)', async () => {
    const frontegg = (await ConnectorRegistry.load()).get('frontegg').manifest;
    const auth = createTokenExchangeAuth(
      frontegg.auth.exchange!,
      { clientId: 'c', secret: 'the-exchange-secret' },
      { baseUrl: front.url, provider: 'Frontegg', envelope: frontegg.errors, timeoutMs: 100 },
      'secret',
    );
    const started = Date.now();
    const error = await auth.authorization().catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({ code: 'provider_timeout' });
    expect(JSON.stringify(error)).not.toContain('the-exchange-secret');
  });
});
