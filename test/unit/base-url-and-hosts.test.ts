import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../src/errors.js';
import { checkBaseUrl, isLoopbackHost, OriginPolicy } from '../../src/http/origin-policy.js';

const refusal = (value: string) => {
  try {
    checkBaseUrl(value);
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('a base URL is refused at the boundary, naming the field', () => {
  it.each([
    ['not a URL', 'api2.frontapp.com', 'is not a valid URL'],
    ['plain HTTP to a public host', 'http://api2.frontapp.com', 'must be https://, or http:// to a loopback address'],
    ['user info', 'https://user@api2.frontapp.com', 'must not carry user info, a query or a fragment'],
    ['a password', 'https://:pw@api2.frontapp.com', 'must not carry user info, a query or a fragment'],
    ['a query', 'https://api2.frontapp.com/?x=1', 'must not carry user info, a query or a fragment'],
    ['a fragment', 'https://api2.frontapp.com/#top', 'must not carry user info, a query or a fragment'],
  ])('%s', (_what, value, message) => {
    const error = refusal(value);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ field: 'baseUrl' });
    expect((error as Error).message).toContain(`base URL (baseUrl) ${message}`);
  });

  it('is kept without its trailing slashes', () => {
    expect(checkBaseUrl('https://eu.example.com/api/v1//')).toBe('https://eu.example.com/api/v1');
    expect(checkBaseUrl('http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080');
  });
});

describe('loopback, where plain HTTP may carry a secret', () => {
  it.each(['localhost', 'LOCALHOST', '127.0.0.1', '127.8.9.10', '::1', '[::1]'])('includes %s', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });
  it.each(['127.0.0.1.evil.example', '10.0.0.1', '128.0.0.1', '::2', 'localhost.evil.example', '0.0.0.0'])('excludes %s', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('where a credential may go', () => {
  // A manifest whose own origin is the credential's: its extra hosts are reachable.
  const policy = new OriginPolicy('http://127.0.0.1:8080', {
    baseUrl: 'http://127.0.0.1:8080',
    allowedHosts: ['files.example.com', '*.api.example.com'],
  });

  it('its own origin, scheme and port included', () => {
    expect(policy.allows(new URL('http://127.0.0.1:8080/x'))).toBe(true);
    expect(policy.allows(new URL('http://127.0.0.1:8081/x'))).toBe(false);
    expect(policy.allows(new URL('https://127.0.0.1:8080/x'))).toBe(false);
  });

  it('a host the manifest names exactly, over HTTPS on the default port only', () => {
    expect(policy.allows(new URL('https://files.example.com/a'))).toBe(true);
    expect(policy.allows(new URL('https://FILES.example.com/a'))).toBe(true);
    expect(policy.allows(new URL('http://files.example.com/a'))).toBe(false);
    expect(policy.allows(new URL('https://files.example.com:444/a'))).toBe(false);
    expect(policy.allows(new URL('https://x.files.example.com/a'))).toBe(false);
    expect(policy.allows(new URL('https://evilfiles.example.com/a'))).toBe(false); // an exact host is no suffix
  });

  it('one label under a wildcard, and not the bare suffix', () => {
    expect(policy.allows(new URL('https://acme-1.api.example.com/a'))).toBe(true);
    expect(policy.allows(new URL('https://api.example.com/a'))).toBe(false);
    expect(policy.allows(new URL('https://a.b.api.example.com/a'))).toBe(false);
    expect(policy.allows(new URL('https://evilapi.example.com/a'))).toBe(false);
    expect(policy.allows(new URL('https://a_b.api.example.com/a'))).toBe(false);
  });
});
