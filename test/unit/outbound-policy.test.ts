import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import got from 'got';
import { OutboundRefusedError } from '../../src/errors.js';
import { startStandIn } from '../helpers/stand-in.js';
import { guardedLookup, OutboundPolicy, type ConnectorOrigins, type Resolver, reachOf } from '../../src/http/outbound-policy.js';

const front: ConnectorOrigins = { id: 'front', manifest: { title: 'Front', http: { baseUrl: 'https://api2.frontapp.com' } } };
const frontegg: ConnectorOrigins = {
  id: 'frontegg',
  manifest: {
    title: 'Frontegg',
    http: {
      baseUrl: 'https://api.frontegg.com',
      regions: { urls: { EU: 'https://api.frontegg.com', US: 'https://api.us.frontegg.com' } },
      customDomains: ['*.frontegg.com'],
    },
  },
};

/** A resolver answering from a table, as a name's owner would (the tenant controls its DNS). */
const resolverOf =
  (table: Record<string, string[]>): Resolver =>
  (hostname, _options, callback) => {
    const found = table[hostname];
    if (!found) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    callback(
      null,
      found.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };

describe('the outbound policy: origins', () => {
  it("lets the operator point a credential anywhere (the operator's own rule is checkBaseUrl's)", () => {
    const policy = new OutboundPolicy();
    for (const url of ['http://127.0.0.1:4010', 'https://internal.example', 'http://[::1]:80'])
      expect(() => policy.check(front, url, 'operator')).not.toThrow();
    expect(policy.route('front', new URL('http://127.0.0.1:4010/me'), 'operator')).toBeUndefined();
  });

  it("lets a tenant use the connector's own origins, its regions and the custom domains its manifest names (one label)", () => {
    const policy = new OutboundPolicy();
    expect(() => policy.check(front, 'https://api2.frontapp.com', 'tenant')).not.toThrow();
    expect(() => policy.check(frontegg, 'https://api.us.frontegg.com', 'tenant')).not.toThrow();
    expect(() => policy.check(frontegg, 'https://acme.frontegg.com', 'tenant')).not.toThrow();
    expect(() => policy.check(frontegg, 'https://evil.example', 'tenant', 'domain')).toThrow(
      "the outbound policy refuses https://evil.example: a workspace's Frontegg credentials may point only at the connector's own origins (https://api.frontegg.com, https://api.us.frontegg.com, https://*.frontegg.com) or at origins the operator allows (CREDPORT_ALLOWED_ORIGINS, credport serve --allow-origin)",
    );
    for (const refused of [
      'https://a.b.frontegg.com',
      'https://frontegg.com.evil.example',
      'https://acme.frontegg.com:8443',
      'http://acme.frontegg.com',
      'https://evil.example',
    ]) {
      expect(() => policy.check(frontegg, refused, 'tenant', 'domain')).toThrow(OutboundRefusedError);
    }
  });

  it("refuses a tenant every other origin before any connection, naming the field, the connector's origins and how to allow one", () => {
    const policy = new OutboundPolicy();
    let refusal: unknown;
    try {
      policy.check(front, 'https://proxy.example:8443', 'tenant', 'baseUrl');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(OutboundRefusedError);
    expect(refusal).toMatchObject({
      code: 'outbound_refused',
      field: 'baseUrl',
      exitCode: 2,
      message:
        "the outbound policy refuses https://proxy.example:8443: a workspace's Front credentials may point only at the connector's own origins (https://api2.frontapp.com) or at origins the operator allows (CREDPORT_ALLOWED_ORIGINS, credport serve --allow-origin)",
    });
  });

  it("refuses a tenant any address of this machine or a private network, in every notation, even as one of the connector's own origins", () => {
    const loopbackOwn: ConnectorOrigins = {
      id: 'local',
      manifest: { title: 'Local', http: { baseUrl: 'https://127.0.0.1:9443', customDomains: ['*.localhost'] } },
    };
    const policy = new OutboundPolicy();
    expect(() => policy.check(loopbackOwn, 'https://127.0.0.1:9443', 'tenant')).toThrow(/an address of this machine or a private network/);
    expect(() => policy.check(loopbackOwn, 'https://api.localhost', 'tenant')).toThrow(/an address of this machine or a private network/);
    for (const url of [
      'http://127.0.0.1:1/x',
      'http://0x7f000001:1/',
      'http://2130706433:1/',
      'http://127.1:1/',
      'http://[::1]:1/',
      'http://[::ffff:127.0.0.1]:1/',
      'https://10.0.0.1/',
      'https://169.254.169.254/',
      'https://localhost/',
      'https://localhost./',
      'https://api.localhost/',
    ]) {
      expect(() => policy.route('front', new URL(url), 'tenant')).toThrow(OutboundRefusedError);
    }
  });

  it('an origin the operator allows is open to tenants, loopback included, for every connector or only the one named', () => {
    const policy = new OutboundPolicy({ allow: ['https://proxy.example:8443', 'front=http://127.0.0.1:4010'] });
    expect(() => policy.check(front, 'https://proxy.example:8443', 'tenant')).not.toThrow();
    expect(() => policy.check(front, 'http://127.0.0.1:4010', 'tenant')).not.toThrow();
    expect(() => policy.check(frontegg, 'http://127.0.0.1:4010', 'tenant')).toThrow(OutboundRefusedError);
    expect(policy.route('front', new URL('http://127.0.0.1:4010/me'), 'tenant')).toBeUndefined();
    expect(() => policy.route('frontegg', new URL('http://127.0.0.1:4010/me'), 'tenant')).toThrow(OutboundRefusedError);
    // Its allowance is the exact origin: another port of the same host is not allowed.
    expect(() => policy.route('front', new URL('http://127.0.0.1:4011/me'), 'tenant')).toThrow(OutboundRefusedError);
    expect(policy.allowedFor('front')).toEqual(['https://proxy.example:8443', 'http://127.0.0.1:4010']);
    expect(policy.allowedFor('frontegg')).toEqual(['https://proxy.example:8443']);
    // A name a tenant may use connects through the guarded agents.
    expect(policy.route('front', new URL('https://api2.frontapp.com/me'), 'tenant')).toEqual({
      http: expect.anything(),
      https: expect.anything(),
    });
  });

  it("says a form's Base URL field is for the operator, and for a tenant only where an allowance names the connector (or none)", () => {
    expect(new OutboundPolicy().allowsOtherOrigins('front', 'operator')).toBe(true);
    expect(new OutboundPolicy().allowsOtherOrigins('front', 'tenant')).toBe(false);
    const one = new OutboundPolicy({ allow: ['front=http://127.0.0.1:4010'] });
    expect([one.allowsOtherOrigins('front', 'tenant'), one.allowsOtherOrigins('frontegg', 'tenant')]).toEqual([true, false]);
    const every = new OutboundPolicy({ allow: ['https://proxy.example:8443'] });
    expect([every.allowsOtherOrigins('front', 'tenant'), every.allowsOtherOrigins('frontegg', 'tenant')]).toEqual([true, true]);
    // Whoever is confined (a workspace token, an end-user session) is a tenant.
    expect([reachOf({ confined: true }), reachOf({}), reachOf({ confined: false })]).toEqual(['tenant', 'operator', 'operator']);
  });

  it('refuses an allowance that is not an origin, naming it', () => {
    const policy = new OutboundPolicy();
    for (const entry of [
      'api.example.com',
      'https://api.example.com/path',
      'https://user:pw@api.example.com',
      'ftp://api.example.com',
      'Front!=https://x.example',
      'https://x.example?q=1',
    ]) {
      expect(() => policy.allow(entry)).toThrow(expect.objectContaining({ code: 'invalid_input', field: 'allowedOrigins' }));
    }
    expect(() => policy.allow('https://api.example.com/')).not.toThrow();
    expect(() => policy.allow('  front=https://spaced.example.com  ')).not.toThrow();
    expect(policy.allowedFor('front')).toEqual(['https://api.example.com', 'https://spaced.example.com']);
    expect(() => policy.allow('api.example.com')).toThrow('"api.example.com" is not an origin such as https://api.example.com');
    expect(() => policy.allow('https://api.example.com/v1')).toThrow(
      '"https://api.example.com/v1" is not an origin: give scheme, host and port only (https://api.example.com, http://127.0.0.1:4010)',
    );
    expect(() => policy.allow('Front!=https://x.example')).toThrow(
      '"Front!=https://x.example" names no connector before "=" (connector=origin, e.g. front=https://api.example.com)',
    );
  });
});

describe('the outbound policy: the address connected to', () => {
  let standIn: Awaited<ReturnType<typeof startStandIn>>;
  let port: number;
  beforeAll(async () => {
    standIn = await startStandIn();
    port = standIn.port;
  });
  afterAll(() => standIn.close());

  it('a name resolving to loopback (DNS rebinding) is refused when connecting: the stand-in on that port hears nothing', async () => {
    const rebound = new OutboundPolicy({
      resolve: resolverOf({
        'api.rebind.test': ['127.0.0.1'],
        'mixed.rebind.test': ['93.184.216.34', '127.0.0.1'],
        'mapped.rebind.test': ['::ffff:127.0.0.1'],
      }),
    });
    for (const host of ['api.rebind.test', 'mixed.rebind.test', 'mapped.rebind.test']) {
      const url = new URL(`http://${host}:${port}/me`);
      const agent = rebound.route('front', url, 'tenant')!;
      const error = await got(url, { agent, retry: { limit: 0 } }).then(
        () => undefined,
        (e: { cause?: unknown }) => e.cause,
      );
      expect(error).toBeInstanceOf(OutboundRefusedError);
      expect((error as Error).message).toBe(
        `the outbound policy refuses ${host}: it resolves to an address of this machine or a private network (loopback, private, link-local or reserved), which a workspace's credentials never reach unless the operator allows that origin`,
      );
    }
    expect(standIn.heard()).toBe(0);
    // The same request on the operator's reach connects (the default agent): the stand-in was there to hear it.
    await got(`http://127.0.0.1:${port}/me`, { retry: { limit: 0 } });
    expect(standIn.heard()).toBe(1);
  });

  it('the guarded lookup answers public addresses in the shape the caller asked for, and passes resolver errors on', async () => {
    const lookup = guardedLookup(resolverOf({ 'public.test': ['93.184.216.34', '2606:2800:220:1::1'] }));
    const one = await new Promise<unknown[]>((resolve) => lookup('public.test', { family: 0 }, (...args: unknown[]) => resolve(args)));
    expect(one).toEqual([null, '93.184.216.34', 4]);
    const all = await new Promise<unknown[]>((resolve) => lookup('public.test', { all: true }, (...args: unknown[]) => resolve(args)));
    expect(all).toEqual([
      null,
      [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1::1', family: 6 },
      ],
    ]);
    const missing = await new Promise<unknown[]>((resolve) => lookup('nowhere.test', { all: true }, (...args: unknown[]) => resolve(args)));
    expect(missing[0]).toMatchObject({ code: 'ENOTFOUND' });
  });
});
