import { beforeAll, describe, expect, it } from '@jest/globals';
import { OriginPolicy } from '../../src/http/origin-policy.js';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';

let registry: ConnectorRegistry;
beforeAll(async () => {
  registry = await ConnectorRegistry.load();
});
const policy = (connector: string, baseUrl: string) => new OriginPolicy(baseUrl, registry.get(connector).manifest.http);

describe("the manifest's extra hosts belong to the provider's own origins", () => {
  // The host Front's own OpenAPI examples put in _pagination.next.
  const company = new URL('https://yourCompany.api.frontapp.com/contacts?page_token=e0b5767cb0f1100743d46f67fcd765caac2ed');

  it("lets a Front credential on Front's own origin reach the company host of a pagination link", () => {
    expect(policy('front', 'https://api2.frontapp.com').allows(company)).toBe(true);
  });

  it.each([
    ['a loopback emulator', 'http://127.0.0.1:4010'],
    ['a proxy in front of Front', 'https://front-proxy.example/front'],
  ])('keeps a Front credential on %s to its own origin: no company host', (_what, baseUrl) => {
    const p = policy('front', baseUrl);
    expect(p.allows(company)).toBe(false);
    expect(p.allows(new URL('https://api2.frontapp.com/me'))).toBe(false);
    expect(p.allows(new URL('/contacts?page_token=x', baseUrl))).toBe(true);
  });

  it("lets a Frontegg credential on a region's gateway reach the other gateways the manifest names", () => {
    expect(policy('frontegg', 'https://api.us.frontegg.com').allows(new URL('https://api.frontegg.com/identity/resources/users/v3'))).toBe(
      true,
    );
  });

  it("keeps a Frontegg credential on the environment's own domain off the regional gateways", () => {
    const p = policy('frontegg', 'https://acme.frontegg.com');
    for (const gateway of ['api.frontegg.com', 'api.us.frontegg.com', 'api.ca.frontegg.com', 'api.au.frontegg.com']) {
      expect(p.allows(new URL(`https://${gateway}/identity/resources/users/v3`))).toBe(false);
    }
    expect(p.allows(new URL('https://acme.frontegg.com/identity/resources/users/v3?_offset=1'))).toBe(true);
  });
});

describe('exact hosts and one-label wildcards stay apart', () => {
  it('never takes an exact host as a suffix, nor a wildcard as an exact host', () => {
    const p = new OriginPolicy('https://api2.frontapp.com', {
      baseUrl: 'https://api2.frontapp.com',
      allowedHosts: ['api2.frontapp.com', 'cdn.frontapp.com', '*.api.frontapp.com'],
    });
    expect(p.allows(new URL('https://cdn.frontapp.com/x'))).toBe(true);
    expect(p.allows(new URL('https://acme.api.frontapp.com/x'))).toBe(true);
    // "cdn.frontapp.com" read as a suffix would let these through.
    expect(p.allows(new URL('https://evilcdn.frontapp.com/x'))).toBe(false);
    expect(p.allows(new URL('https://evil-api2.frontapp.com/x'))).toBe(false);
  });
});
