import { describe, expect, it } from '@jest/globals';
import { redactSecrets } from '../../src/http/redact.js';

describe('redacting what a provider said', () => {
  it('replaces every occurrence of a secret of 4 characters or more', () => {
    expect(redactSecrets('abcd said abcd, tok_123456 too', ['abcd', 'tok_123456'])).toBe('[REDACTED] said [REDACTED], [REDACTED] too');
  });

  it('leaves text alone for a secret shorter than 4 characters, which would blank out ordinary words', () => {
    expect(redactSecrets('a bad answer', ['a', 'ba', 'bad'])).toBe('a bad answer');
    expect(redactSecrets('', ['abcd'])).toBe('');
  });
});
