import { describe, expect, it } from '@jest/globals';
import { createJsonLog } from '../../src/logging/json-log.js';
import { LogRedaction, redactionFromEnv } from '../../src/logging/log-redaction.js';
import { requestIdFor } from '../../src/logging/request-id.js';

const secret = 'sk_live_0123456789abcdefXYZ';

/** A logger whose lines land in an array, as they would on stdout. */
function capture(redaction: LogRedaction) {
  const lines: string[] = [];
  const { logger } = createJsonLog(redaction, { write: (line: string) => void lines.push(line) });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('LogRedaction', () => {
  it('hides a known secret in each spelling and any 8-character stretch of it, in values and keys', () => {
    const redaction = new LogRedaction().add(secret);
    const line = redaction.line(
      JSON.stringify({
        msg: `got ${secret} back`,
        cut: `...${secret.slice(5, 14)}...`,
        enc: encodeURIComponent(`${secret}/x`),
        [secret]: 1,
      }),
    );
    expect(line).not.toContain(secret.slice(0, 8));
    expect(line).not.toContain(secret.slice(5, 13));
    expect(JSON.parse(line)).toEqual({ msg: 'got *** back', cut: '...***...', enc: expect.stringContaining('***'), '***': 1 });
  });

  it('hides what it knows by shape: API, session and connect tokens, whsec_ secrets, bearers, URI passwords, login codes', () => {
    const redaction = new LogRedaction();
    const text = [
      'cpt_AbCdEf0123456789_-xyz',
      'cps_0123abcd.sEcReTsEcReT',
      'ccs_0123abcd.tOkEnTaIl99',
      'ccb_0123abcd.bEaReRtAiL99',
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw+/w=',
      'Authorization: Bearer eyJhbGciOi.payload.sig',
      'postgresql://credport:pa55w0rd@127.0.0.1:5432/db',
      'redis://:r3d1spass@10.0.0.1:6379/0',
      'http://127.0.0.1:8737/#login=abcdefghij0123456789',
    ].join(' ');
    const out = redaction.text(text);
    for (const hidden of [
      'AbCdEf0123',
      'sEcReT',
      'tOkEnTaIl',
      'bEaReRtAiL',
      'MfKQ9r8G',
      'eyJhbGciOi',
      'pa55w0rd',
      'r3d1spass',
      'abcdefghij',
    ])
      expect(out).not.toContain(hidden);
    expect(out).toContain('postgresql://credport:***@127.0.0.1:5432/db');
    expect(out).toContain('cpt_***');
    expect(out).toContain('#login=***');
  });

  it('keeps a line valid JSON whatever a secret holds (quotes, backslashes), and wraps a line that is not JSON', () => {
    const odd = 'a"b\\c\nd-long-secret';
    const redaction = new LogRedaction().add(odd);
    const line = redaction.line(JSON.stringify({ msg: `x ${odd} y` }));
    expect(JSON.parse(line)).toEqual({ msg: 'x *** y' });
    const wrapped = JSON.parse(new LogRedaction().add(secret).line(`not json ${secret}\n`)) as { msg: string };
    expect(wrapped.msg).toBe('not json ***');
  });

  it("takes the environment's secrets: the API token, the master keys, store, queue and Redis passwords", () => {
    const redaction = redactionFromEnv({
      CREDPORT_API_TOKEN: 'api-token-0123456789abcdef',
      CREDPORT_MASTER_KEY: 'bWFzdGVyLWtleS0wMTIzNDU2Nzg5',
      CREDPORT_QUEUE: 'redis://:queue-pass-xyz@127.0.0.1:6379/1',
      CREDPORT_STORE: 'postgresql://u:store-pw-xyz@127.0.0.1/db',
    });
    const out = redaction.text('api-token-0123456789abcdef bWFzdGVyLWtleS0wMTIzNDU2Nzg5 queue-pass-xyz store-pw-xyz');
    expect(out).toBe('*** *** *** ***');
  });
});

describe('createJsonLog', () => {
  it('every line goes through the redaction; headers that carry secrets are blanked; an error keeps to what it is', () => {
    const { logger, parsed } = capture(new LogRedaction().add(secret));
    logger.info({ headers: { authorization: 'Basic dXNlcjpwYXNz', cookie: 's=1', 'x-api-key': 'k-123456789' } }, `said ${secret}`);
    const gotLike = Object.assign(new Error('Response code 401'), {
      code: 'ERR_NON_2XX_3XX_RESPONSE',
      options: { headers: { authorization: `Bearer ${secret}` } },
    });
    logger.error({ err: gotLike }, 'failed');
    const [first, second] = parsed();
    expect(first).toEqual(
      expect.objectContaining({ msg: 'said ***', headers: { authorization: '***', cookie: '***', 'x-api-key': '***' } }),
    );
    expect(second!.err).toEqual({ type: 'Error', message: 'Response code 401', code: 'ERR_NON_2XX_3XX_RESPONSE' });
    expect(JSON.stringify(parsed())).not.toContain('dXNlcjpw');
  });
});

describe('requestIdFor', () => {
  it("takes a caller's short printable id, and makes one for anything else", () => {
    expect(requestIdFor('trace-abc-123')).toBe('trace-abc-123');
    for (const hostile of ['a\nb', 'a b', 'x'.repeat(65), '', 'é', undefined, ['a', 'b']])
      expect(requestIdFor(hostile)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});
