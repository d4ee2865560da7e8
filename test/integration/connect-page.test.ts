import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { withAccess } from '../../src/access/access.js';
import type { ConnectSessionRecord } from '../../src/connect/connect-sessions.js';
import type { Collection } from '../../src/store/collection.js';
import { type ApiUnderTest, startApi } from '../helpers/api-server.js';
import { tempHome } from '../helpers/temp-home.js';

/**
 * GET /connect/{sessionId} and GET /connect/sdk.js over real loopback HTTP: each session's page may
 * be framed by that session's origins only, and nothing a record holds can widen that.
 */
let api: ApiUnderTest;
let built: string;
const PAGE =
  '<!doctype html><html><head><meta name="credport-allowed-origins" content="" /></head><body><div id="root"></div></body></html>';
const SDK = 'export function openConnect() {}\n';

beforeAll(async () => {
  // A stand-in for dist/: the route reads web/connect.html and sdk/connect.js beside it.
  built = await tempHome();
  await mkdir(join(built, 'web'));
  await mkdir(join(built, 'sdk'));
  await writeFile(join(built, 'web', 'connect.html'), PAGE);
  await writeFile(join(built, 'sdk', 'connect.js'), SDK);
  // The operator allows no framing of the app itself: the Connect page's own ancestors must not come from there.
  api = await startApi({ server: { webRoot: join(built, 'web') } });
});
afterAll(async () => {
  await api.close();
  await rm(built, { recursive: true, force: true });
});

const mint = (allowedOrigins: string[]) =>
  withAccess({ workspace: 'acme', role: 'editor' }, () =>
    api.credport.connect.createSession({ endUser: { id: 'user-42' }, allowedOrigins }),
  );

const get = (path: string) => fetch(`${api.url}${path}`);

const frameAncestors = (response: Response) => /frame-ancestors ([^;]*)/.exec(response.headers.get('content-security-policy') ?? '')?.[1];
const metaOf = (html: string) => [...html.matchAll(/<meta name="credport-allowed-origins" content="([^"]*)">/g)].map((m) => m[1]);

describe('GET /connect/{sessionId}', () => {
  it("serves the page framable by exactly the session's origins, which its meta names too", async () => {
    const { id } = await mint(['http://127.0.0.2:8080', 'https://app.example.com']);
    const response = await get(`/connect/${id}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(frameAncestors(response)).toBe('http://127.0.0.2:8080 https://app.example.com');
    // The rest of the app's policy stays: no inline script, styles from the page's own origin.
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('x-frame-options')).toBeNull();
    // A popup keeps window.opener, the host page it reports to.
    expect(response.headers.get('cross-origin-opener-policy')).toBe('unsafe-none');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(metaOf(await response.text())).toEqual(['http://127.0.0.2:8080 https://app.example.com']);
  });

  it("gives another session's page its own origins, not the first one's", async () => {
    const first = await mint(['https://one.example.com']);
    const second = await mint(['https://two.example.com']);
    const [a, b] = await Promise.all([get(`/connect/${first.id}`), get(`/connect/${second.id}`)]);
    expect(frameAncestors(a)).toBe('https://one.example.com');
    expect(frameAncestors(b)).toBe('https://two.example.com');
    expect(metaOf(await b.text())).toEqual(['https://two.example.com']);
  });

  it('serves a revoked session still (its exchange then says why), with its origins', async () => {
    const { id } = await mint(['https://app.example.com']);
    await withAccess({ workspace: 'acme', role: 'editor' }, () => api.credport.connect.revokeSession(id));
    const response = await get(`/connect/${id}`);
    expect(response.status).toBe(200);
    expect(frameAncestors(response)).toBe('https://app.example.com');
  });

  it.each([
    ['an unknown id', 'csn_0123456789abcdef'],
    ['a malformed id', 'csn_NOT-AN-ID'],
    ['a credential id', 'cred_0123456789abcdef'],
  ])('answers %s with 404, a short page framed by nobody, without echoing it', async (_name, id) => {
    const response = await get(`/connect/${id}`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(frameAncestors(response)).toBe("'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const html = await response.text();
    expect(html).toContain('No such Connect session');
    expect(html).not.toContain(id);
  });

  it('lets no stored origin break out of the header or the meta', async () => {
    // Written past createSession's checks, as an older version or a hand edit could have.
    const { id } = await mint(['https://app.example.com']);
    const sessions = (api.credport.connect as unknown as { sessions: Collection<ConnectSessionRecord> }).sessions;
    const record = (await sessions.get(id))!;
    await sessions.put(id, {
      ...record,
      allowedOrigins: [
        'https://app.example.com',
        "https://evil.example; script-src 'unsafe-inline'",
        'https://evil.example https://more.example',
        'https://x.example" http-equiv="refresh',
        'https://x.example"><script>alert(1)</script>',
        "'self'",
        '*',
      ],
    });
    const response = await get(`/connect/${id}`);
    expect(response.status).toBe(200);
    expect(frameAncestors(response)).toBe('https://app.example.com');
    expect(response.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    const html = await response.text();
    expect(metaOf(html)).toEqual(['https://app.example.com']);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('http-equiv');
  });

  it('is answered 404 (not framable) when every stored origin is unusable', async () => {
    const { id } = await mint(['https://app.example.com']);
    const sessions = (api.credport.connect as unknown as { sessions: Collection<ConnectSessionRecord> }).sessions;
    await sessions.put(id, { ...(await sessions.get(id))!, allowedOrigins: ['https://evil.example; x'] });
    const response = await get(`/connect/${id}`);
    expect(response.status).toBe(404);
    expect(frameAncestors(response)).toBe("'none'");
  });

  it('is not an API operation: absent from the OpenAPI document', async () => {
    const document = (await (
      await fetch(`${api.url}/api/v1/openapi.json`, { headers: { authorization: 'Bearer test-api-token-0123456789abcdef' } })
    ).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/connect/'))).toEqual([]);
  });
});

describe('GET /connect/sdk.js', () => {
  it('serves the SDK as a cross-origin module script, cacheable for a short time', async () => {
    const response = await get('/connect/sdk.js');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toBe(SDK);
  });

  it('says so when the SDK is not built', async () => {
    const bare = await startApi({ server: { webRoot: join(built, 'nowhere', 'web') } });
    try {
      const response = await fetch(`${bare.url}/connect/sdk.js`);
      expect(response.status).toBe(404);
      expect(await response.text()).toMatch(/not built/);
    } finally {
      await bare.close();
    }
  });
});
