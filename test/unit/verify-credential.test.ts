import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { verifyCredential } from '../../src/credentials/verify-credential.js';
import type { ProviderClient } from '../../src/http/provider-client.js';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';
import { writeConnector } from '../helpers/connector-fixtures.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

let extras: string;
let registry: ConnectorRegistry;
const SECRET = 'acme-secret-0123456789';

/** A client that answers the verification request with `body`, and knows the secret it holds (to redact it). */
const answering = (body: unknown, expiresAt?: number) =>
  ({
    baseUrl: 'https://api.acme.example',
    secrets: () => [SECRET],
    request: async () => ({ status: 200, body, headers: {} }),
    authorizeNow: async () => expiresAt,
  }) as unknown as ProviderClient;

beforeAll(async () => {
  extras = await tempHome();
  await writeConnector(extras, 'acme', (m) => {
    m.verification = {
      method: 'GET',
      path: '/me',
      identity: { id: '/id' },
      optionalIdentity: { seats: '/seats', admin: '/admin', plan: '/plan' },
    };
  });
  // A token exchange whose manifest lists a secret field among those shown: the secret must still not reach the tile.
  await writeConnector(extras, 'swap', (m) => {
    m.auth = { strategy: 'bearer', secret: 'token' };
    m.verification = { via: 'token-exchange', identity: {}, fromFields: ['name', 'token', 'missing'] };
  });
  // The manifest's defaults: a GET of / by request, and a key type read from the answer.
  await writeConnector(extras, 'plain', (m) => {
    m.verification = { identity: { id: '/id' }, keyType: { field: 'keyType', pointer: '/user', present: 'USER', absent: 'GENERAL' } };
  });
  registry = await ConnectorRegistry.load({ extraConnectorDirs: [extras] });
});
afterAll(() => removeHome(extras));

describe('verifyCredential', () => {
  it('keeps strings (redacted), numbers and booleans from the answer; drops objects and nulls', async () => {
    const identity = await verifyCredential(
      registry.get('acme'),
      answering({ id: `u-${SECRET}`, seats: 12, admin: false, plan: { tier: 'pro' } }),
      { token: SECRET },
    );
    expect(identity).toStrictEqual({ id: 'u-***', seats: 12, admin: false });
  });

  it('refuses an answer without a required identity field as provider_unexpected, naming the pointer and the base URL', async () => {
    const error = await verifyCredential(registry.get('acme'), answering({ name: 'no id here' }), { token: SECRET }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'provider_unexpected',
      status: 200,
      exitCode: 4,
      message: 'ACME answered GET /me without /id (id): is the base URL https://api.acme.example really ACME?',
    });
  });

  it('a token exchange shows only the public fields it names that were given, and the token expiry', async () => {
    const identity = await verifyCredential(registry.get('swap'), answering({}, Date.UTC(2026, 10, 26, 13)), {
      name: 'Ops',
      token: SECRET,
    });
    expect(identity).toStrictEqual({ name: 'Ops', tokenExpiresAt: '2026-11-26T13:00:00.000Z' });
    expect(await verifyCredential(registry.get('swap'), answering({}), { name: 'Ops', token: SECRET })).toStrictEqual({ name: 'Ops' });
  });

  it('asks GET / where the manifest names no request, and tells a user key from a general one by the answer', async () => {
    const asked: unknown[] = [];
    const client = (body: unknown) =>
      ({
        baseUrl: 'https://api.plain.example',
        secrets: () => [SECRET],
        request: async (r: unknown) => {
          asked.push(r);
          return { status: 200, body, headers: {} };
        },
      }) as unknown as ProviderClient;
    expect(await verifyCredential(registry.get('plain'), client({ id: 'a', user: { id: 7 } }), { token: SECRET })).toStrictEqual({
      id: 'a',
      keyType: 'USER',
    });
    expect(await verifyCredential(registry.get('plain'), client({ id: 'b', user: null }), { token: SECRET })).toStrictEqual({
      id: 'b',
      keyType: 'GENERAL',
    });
    expect(await verifyCredential(registry.get('plain'), client({ id: 'c' }), { token: SECRET })).toStrictEqual({
      id: 'c',
      keyType: 'GENERAL',
    });
    expect(asked).toEqual([
      { method: 'GET', path: '/' },
      { method: 'GET', path: '/' },
      { method: 'GET', path: '/' },
    ]);
  });
});
