import { describe, expect, it } from '@jest/globals';
import { scrubSecrets } from '../../src/text/scrub-secrets.js';

describe('scrubSecrets (what is kept of a provider refusal: an audit detail, a tile reason)', () => {
  const secret = 'tok_Ab12Cd34Ef56Gh78Ij90';
  it('takes out the whole secret in any case or URL-encoded, and any 8 of its characters in a row', () => {
    expect(scrubSecrets(`invalid token ${secret}`, { apiKey: secret })).toBe('invalid token ***');
    expect(scrubSecrets(`invalid token ${secret.toUpperCase()}`, { apiKey: secret })).toBe('invalid token ***');
    expect(scrubSecrets(`token=${encodeURIComponent('a/b+c=d_0123456789')}`, { apiKey: 'a/b+c=d_0123456789' })).toBe('token=***');
    expect(scrubSecrets(`token ending ${secret.slice(-10)} is revoked`, { apiKey: secret })).not.toContain(secret.slice(-8));
    expect(scrubSecrets(`prefix ${secret.slice(0, 8)}…`, { apiKey: secret })).toBe('prefix ***…');
  });

  it('keeps ordinary words and short secrets alone', () => {
    expect(scrubSecrets('401 Unauthenticated: Invalid or missing API token (GET /me)', { apiKey: secret })).toBe(
      '401 Unauthenticated: Invalid or missing API token (GET /me)',
    );
    expect(scrubSecrets('test failed', { apiKey: 'test' })).toBe('test failed');
    expect(scrubSecrets(`has ${secret.slice(0, 7)} only`, { apiKey: secret })).toBe(`has ${secret.slice(0, 7)} only`);
  });
});
