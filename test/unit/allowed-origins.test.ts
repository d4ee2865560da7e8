import { describe, expect, it } from '@jest/globals';
import { checkAllowedOrigins } from '../../src/connect/allowed-origins.js';
import type { InputError } from '../../src/errors.js';

const refusal = (origin: string) => {
  try {
    checkAllowedOrigins(['https://ok.example.com', origin]);
  } catch (error) {
    return { field: (error as InputError).field, message: (error as Error).message };
  }
  return undefined;
};

describe("a connect session's allowed origins", () => {
  it('takes exact origins, https anywhere and http on loopback, normalised as a browser reports them', () => {
    expect(
      checkAllowedOrigins(['https://App.Example.com', 'https://app.example.com:443', 'http://127.0.0.2:8080', 'http://localhost:3000']),
    ).toEqual(['https://app.example.com', 'https://app.example.com', 'http://127.0.0.2:8080', 'http://localhost:3000']);
    expect(checkAllowedOrigins(['https://bücher.example', 'http://[::1]:8080'])).toEqual([
      'https://xn--bcher-kva.example',
      'http://[::1]:8080',
    ]);
  });

  it.each([
    ['https://app.example.com/', 'origin only'],
    ['https://app.example.com/embed', 'origin only'],
    ['https://app.example.com?x=1', 'origin only'],
    ['https://app.example.com#top', 'origin only'],
    ['https://*.example.com', 'wildcard'],
    ['*', 'wildcard'],
    ['http://app.example.com', 'loopback'],
    ['ftp://app.example.com', 'loopback'],
    ['https://user:pw@app.example.com', 'user info'],
    ['https://user@app.example.com', 'user info'],
    ['https://:pw@app.example.com', 'user info'],
    ['https://app.example.com?', 'origin only'],
    ['app.example.com', 'not an origin'],
    // Characters a WHATWG host lets through that would end a CSP source list or start a directive.
    ['https://app.example.com;script-src', 'letters, digits, dots and hyphens'],
    ['https://app.example.com,evil.example', 'letters, digits, dots and hyphens'],
    ["https://app'example.com", 'letters, digits, dots and hyphens'],
  ])('refuses %s, pointing at it', (origin, why) => {
    expect(refusal(origin)).toEqual({ field: '/allowedOrigins/1', message: expect.stringContaining(why) });
  });
});
