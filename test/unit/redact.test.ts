import { describe, expect, it } from '@jest/globals';
import { redact, REDACTED, STRETCH } from '../../src/text/redact.js';
import { redactUri, secretsOfUri, SHORTEST_URI_SECRET } from '../../src/text/redact-uri.js';

const secret = 'tok_Ab12Cd34Ef56Gh78Ij90';

describe('redacting what a provider said', () => {
  it('replaces every occurrence of a secret of 4 characters or more', () => {
    expect(redact('abcd said abcd, tok_123456 too', ['abcd', 'tok_123456'])).toBe('*** said ***, *** too');
  });

  it('leaves text alone for a secret shorter than 4 characters, which would blank out ordinary words', () => {
    expect(redact('a bad answer', ['a', 'ba', 'bad'])).toBe('a bad answer');
    expect(redact('', ['abcd'])).toBe('');
  });
});

describe('redact: one marker, one rule', () => {
  it('marks what it hides with ***, the marker of every message, log and URI', () => {
    expect(REDACTED).toBe('***');
    expect(redactUri('redis://:hunter2@cache:6379')).toBe(`redis://:${REDACTED}@cache:6379`);
  });

  it('hides the exact secret, in any letter case, and inside a longer word', () => {
    expect(redact(`invalid token ${secret}`, [secret])).toBe('invalid token ***');
    expect(redact(`invalid token ${secret.toUpperCase()}`, [secret])).toBe('invalid token ***');
    expect(redact(`invalid token ${secret.toLowerCase()}!`, [secret])).toBe('invalid token ***!');
    expect(redact(`Bearer${secret}xyz`, [secret])).toBe('Bearer***xyz');
  });

  it(`hides any stretch of ${STRETCH} characters of a secret, wherever it stands, and keeps a shorter one`, () => {
    expect(STRETCH).toBe(8);
    expect(redact(`prefix ${secret.slice(0, 8)}…`, [secret])).toBe('prefix ***…');
    expect(redact(`ending ${secret.slice(-8)} is revoked`, [secret])).toBe('ending *** is revoked');
    expect(redact(`middle ${secret.slice(7, 15)}.`, [secret])).toBe('middle ***.');
    expect(redact(`ending ${secret.slice(-10)} is revoked`, [secret])).toBe('ending *** is revoked');
    expect(redact(`in case ${secret.slice(3, 11).toUpperCase()}`, [secret])).toBe('in case ***');
    expect(redact(`has ${secret.slice(0, 7)} only`, [secret])).toBe(`has ${secret.slice(0, 7)} only`);
    expect(redact(`has ${secret.slice(-7)} only`, [secret])).toBe(`has ${secret.slice(-7)} only`);
  });

  it('keeps ordinary words around a long secret', () => {
    expect(redact('401 Unauthenticated: Invalid or missing API token (GET /me)', [secret])).toBe(
      '401 Unauthenticated: Invalid or missing API token (GET /me)',
    );
  });

  it('looks for no secret shorter than the shortest the caller counts, and for every one from there', () => {
    expect(redact('the pin 123 and the word test', ['123', 'test'])).toBe('the pin 123 and the word ***');
    expect(redact('the pin 123 and the word test', ['123', 'test'], 3)).toBe('the pin *** and the word ***');
    expect(redact('test failed', ['test'], STRETCH)).toBe('test failed');
    expect(redact('abcdefg or abcdefgh', ['abcdefg', 'abcdefgh'], STRETCH)).toBe('abcdefg or ***');
    expect(redact('nothing to hide', ['', 42, undefined, null], 0)).toBe('nothing to hide');
  });

  it('hides several secrets, each everywhere', () => {
    expect(redact('id AKIA1234XYZ secret wJalrXUtnFEMI, again AKIA1234XYZ', ['AKIA1234XYZ', 'wJalrXUtnFEMI'])).toBe(
      'id *** secret ***, again ***',
    );
  });

  it('hides overlapping and touching secrets as one marker, leaving no sliver between them', () => {
    // 'abcdef' and 'cdefgh' overlap in 'abcdefgh': hiding one then the other would leave 'gh' or 'ab'.
    expect(redact('x abcdefgh y', ['abcdef', 'cdefgh'])).toBe('x *** y');
    // One secret inside another, listed shorter first.
    expect(redact('x 12345678901234 y', ['5678', '12345678901234'])).toBe('x *** y');
    // Side by side.
    expect(redact('x wxyzabcd y', ['wxyz', 'abcd'])).toBe('x *** y');
    // A secret that overlaps itself.
    expect(redact('x aaaaaaa y', ['aaaa'])).toBe('x *** y');
  });

  it('hides the secret URL-encoded, URL-decoded and JSON-escaped', () => {
    const odd = 'a/b+c=d "q" \\_0123456789';
    expect(redact(`token=${encodeURIComponent(odd)}`, [odd])).toBe('token=***');
    expect(redact(`body {"token":${JSON.stringify(odd)}}`, [odd])).toBe('body {"token":"***"}');
    expect(redact('password p@ss-word-9 refused', ['p%40ss-word-9'])).toBe('password *** refused');
  });

  it("hides a URI's password and query secret in a driver's message, from 3 characters, user name kept", () => {
    const uri = 'postgresql://credport:p%40ss-Long-Phrase-9@db:5432/credport?sslmode=require&token=t0k';
    const said = 'connect failed for postgresql://credport:p%40ss-Long-Phrase-9@db (password p@ss-Long-Phrase-9, token t0k)';
    const out = redact(said, secretsOfUri(uri), SHORTEST_URI_SECRET);
    expect(out).toBe('connect failed for postgresql://credport:***@db (password ***, token ***)');
    // Cut short by the driver: a stretch of it is hidden too.
    expect(redact('password "ss-Long-Ph" rejected', secretsOfUri(uri), SHORTEST_URI_SECRET)).toBe('password "***" rejected');
    expect(redactUri(uri)).toBe('postgresql://credport:***@db:5432/credport?sslmode=require&token=***');
  });

  it('never lets out a whole secret or a stretch of it, whatever text it stands in', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789_-.';
    const word = (length: number) => Array.from({ length }, () => alphabet[random(alphabet.length)]).join('');
    for (let round = 0; round < 300; round++) {
      const secrets = [word(4 + random(30)), word(4 + random(30))];
      let text = '';
      for (let part = 0; part < 6; part++) {
        const from = secrets[random(2)]!;
        const start = random(from.length);
        text += word(random(5)) + from.slice(start, start + STRETCH + random(from.length));
      }
      const out = redact(text, secrets).toLowerCase();
      for (const s of secrets) {
        expect(out).not.toContain(s.toLowerCase());
        for (let i = 0; i + STRETCH <= s.length; i++) expect(out).not.toContain(s.slice(i, i + STRETCH).toLowerCase());
      }
    }
  });
});
