import { beforeAll, describe, expect, it } from '@jest/globals';
import { createBearerAuth } from '../../src/auth/bearer.js';
import { ProviderRejectedError, ProviderUnavailableError } from '../../src/errors.js';
import { describeHttpError } from '../../src/http/describe-http-error.js';
import { ProviderClient } from '../../src/http/provider-client.js';
import type { Connector } from '../../src/registry/connector.js';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';
import { fakeToken } from '../helpers/temp-home.js';
import { useNock } from '../helpers/use-nock.js';

const nock = useNock();
const FRONT = 'https://api2.frontapp.com';
let front: Connector;
beforeAll(async () => {
  front = (await ConnectorRegistry.load()).get('front');
});

// What a hostile or broken provider can put in its error text: a clear-screen, an OSC 8 link whose
// visible text lies about where it goes, a C1 CSI, and a right-to-left override that reorders text.
const HOSTILE = 'Quota \u001b[2Jexceeded \u001b]8;;https://evil.example/\u0007see docs\u001b]8;;\u0007 \u009b31m \u202Etxt.exe';
// Every character a terminal acts on or a reader is misled by.
const UNSAFE = /[\u0000-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

/** The error as the CLI shows it: its message on stderr, or its JSON on stdout. */
const renderings = (error: unknown) => [(error as Error).message, JSON.stringify(error)];

describe("a provider's error text is made safe for a terminal and for JSON", () => {
  it.each([
    [401, ProviderRejectedError],
    [403, ProviderRejectedError],
    [422, ProviderUnavailableError],
    [503, ProviderUnavailableError],
  ])('in a %i answer, keeping its words', async (status, type) => {
    const token = fakeToken();
    nock(FRONT)
      .get('/me')
      .reply(status, { _error: { status, title: 'Refused', message: HOSTILE } });
    const client = new ProviderClient(front, FRONT, createBearerAuth(token), { timeoutMs: 2000, retries: 0 });
    const error = await client.request({ path: '/me' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    for (const text of renderings(error)) {
      expect(text).not.toMatch(UNSAFE);
      expect(text).not.toMatch(/\\u00(1b|9b)|\\u202e/i); // nor escaped into the JSON
      expect(text).toContain('Quota');
      expect(text).toContain('exceeded');
    }
  });

  it('in the code of a network failure', () => {
    const failure = Object.assign(new Error('connect failed'), { code: 'E\u001b]8;;https://evil.example/\u0007RESET\u202E' });
    const error = describeHttpError(failure, {
      provider: 'Front',
      envelope: front.manifest.errors,
      method: 'GET',
      url: new URL(`${FRONT}/me`),
      secrets: [],
    });
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    for (const text of renderings(error)) expect(text).not.toMatch(UNSAFE);
    expect(error.message).toContain('RESET');
  });
});

describe('what the provider said, as the error says it', () => {
  const ask = async (status: number, body: string | object, headers: Record<string, string> = {}) => {
    nock(FRONT).get('/me').reply(status, body, headers);
    const c = new ProviderClient(front, FRONT, createBearerAuth(fakeToken()), { timeoutMs: 2000, retries: 0 });
    return (await c.request({ path: '/me' }).catch((e: unknown) => e)) as Error;
  };

  it("quotes the envelope's message alone when it has no title", async () => {
    expect((await ask(422, { _error: { message: 'handles is required' } })).message).toBe(
      'Front answered GET /me with 422 handles is required',
    );
  });

  it('skips a blank title', async () => {
    expect((await ask(422, { _error: { title: '  ', message: 'bad' } })).message).toBe('Front answered GET /me with 422 bad');
  });

  it('falls back to the status line when the body is no envelope, JSON or not', async () => {
    expect((await ask(500, '<html>oops</html>', { 'content-type': 'text/html' })).message).toBe(
      'Front answered GET /me with 500 Internal Server Error',
    );
    expect((await ask(500, { other: 'shape' })).message).toBe('Front answered GET /me with 500 Internal Server Error');
  });

  it('passes a credport error through as it is', () => {
    const original = new ProviderRejectedError('already described', 403);
    expect(
      describeHttpError(original, {
        provider: 'Front',
        envelope: front.manifest.errors,
        method: 'GET',
        url: new URL(`${FRONT}/me`),
        secrets: [],
      }),
    ).toBe(original);
  });

  it('quotes title and message joined, and a JSON answer whatever its content type says', async () => {
    expect((await ask(403, { _error: { title: 'Forbidden', message: 'no scope' } })).message).toBe(
      'Front rejected the credential: 403 Forbidden: no scope (GET /me)',
    );
    expect((await ask(422, JSON.stringify({ _error: { message: 'bad' } }), { 'content-type': 'text/plain' })).message).toBe(
      'Front answered GET /me with 422 bad',
    );
  });

  it('names the host a request was sent to that does not resolve, after a redirect too', async () => {
    nock(FRONT).get('/me').reply(302, '', { location: 'https://gone.api.frontapp.com/me' });
    nock('https://gone.api.frontapp.com')
      .get('/me')
      .replyWithError(Object.assign(new Error('getaddrinfo ENOTFOUND gone.api.frontapp.com'), { code: 'ENOTFOUND' }));
    const c = new ProviderClient(front, FRONT, createBearerAuth(fakeToken()), { timeoutMs: 2000, retries: 0 });
    const error = await c.request({ path: '/me' }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'provider_unreachable',
      message: `could not reach Front at ${FRONT}: the host name gone.api.frontapp.com does not resolve (ENOTFOUND), which retrying would not change`,
    });
    const plain = describeHttpError(Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }), {
      provider: 'Front',
      envelope: front.manifest.errors,
      method: 'GET',
      url: new URL(`${FRONT}/me`),
      secrets: [],
    });
    expect(plain).toMatchObject({
      code: 'provider_unreachable',
      message: `could not reach Front at ${FRONT}: the host name api2.frontapp.com does not resolve (ENOTFOUND), which retrying would not change`,
    });
  });

  it('describes nothing at all', () => {
    const error = describeHttpError(undefined, {
      provider: 'Front',
      envelope: front.manifest.errors,
      method: 'GET',
      url: new URL(`${FRONT}/me`),
      secrets: [],
    });
    expect(error).toMatchObject({ code: 'provider_unreachable', message: `could not reach Front at ${FRONT}: undefined` });
  });

  it('describes something that is not even an Error', () => {
    const error = describeHttpError('socket closed', {
      provider: 'Front',
      envelope: front.manifest.errors,
      method: 'GET',
      url: new URL(`${FRONT}/me`),
      secrets: [],
    });
    expect(error.message).toBe(`could not reach Front at ${FRONT}: socket closed`);
  });
});
