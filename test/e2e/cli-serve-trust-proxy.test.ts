import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rawRequest } from '../helpers/raw-http.js';
import { runCli } from '../helpers/run-cli.js';
import { type Served, startServe } from '../helpers/serve.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

/**
 * `credport serve --trust-proxy 127.0.0.1` behind a TLS proxy: the page's https:// Origin is this
 * server's own when the proxy says so, and X-Forwarded-* from any other address are ignored. The
 * untrusted client is bound to 127.0.0.2, another loopback address the server does not trust.
 */
let home: string;
let served: Served;
let port: string;
let session: Record<string, string>;

beforeAll(async () => {
  home = await tempHome();
  served = await startServe({ home, args: ['--trust-proxy', '127.0.0.1'] });
  port = new URL(served.url).port;
  const code = new URL(served.loginUrl()).hash.slice('#login='.length);
  const login = await rawRequest(served.url, 'POST', '/api/v1/session', { body: { code } });
  expect(login.status).toBe(201);
  session = { authorization: `Bearer ${login.body.token}` };
}, 30_000);

afterAll(async () => {
  await served?.stop();
  await removeHome(home);
});

let n = 0;
/** A state-changing request (an unverified credential: nothing asks a provider) with these headers, from this address. */
const create = (headers: Record<string, string>, localAddress: string) =>
  rawRequest(served.url, 'POST', '/api/v1/credentials', {
    headers: { ...session, ...headers },
    localAddress,
    body: {
      connector: 'front',
      verify: false,
      values: { name: `Behind the proxy ${++n}`, apiKey: 'eyJabc.defghijklmnopqrstuvwxyz0123.0123456789abcdef' },
    },
  });

describe('credport serve --trust-proxy', () => {
  it('prints the login link with its code in the fragment', () => {
    expect(served.loginUrl()).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/#login=[\\w-]{32}$`));
  });

  it('takes the https Origin the proxy was asked for, from the trusted proxy only', async () => {
    const viaProxy = { 'x-forwarded-proto': 'https', origin: `https://127.0.0.1:${port}` };
    expect((await create(viaProxy, '127.0.0.1')).status).toBe(201);
    const untrusted = await create(viaProxy, '127.0.0.2');
    expect(untrusted.status).toBe(403);
    expect(untrusted.body.code).toBe('cross_site_request');
    // The proxy's public name, too: X-Forwarded-Host (its Host stays loopback, for the DNS-rebinding check).
    const publicName = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'credport.example.com', origin: 'https://credport.example.com' };
    expect((await create(publicName, '127.0.0.1')).status).toBe(201);
    expect((await create(publicName, '127.0.0.2')).status).toBe(403);
    // The untrusted address is served as itself: its own http Origin passes, whatever it forwards.
    expect((await create({ 'x-forwarded-proto': 'https', origin: `http://127.0.0.1:${port}` }, '127.0.0.2')).status).toBe(201);
  });

  it('refuses a value that is not an address or a CIDR, naming the option', async () => {
    for (const value of ['everyone', '10.0.0.0/33', '127.0.0.1,*']) {
      const run = await runCli(['serve', '--port', '0', '--trust-proxy', value], { env: { CREDPORT_HOME: home } });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--trust-proxy takes addresses or CIDRs');
    }
  });
});
