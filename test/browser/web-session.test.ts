import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { type Browser, launchChromium } from '../helpers/browser.js';
import { rawRequest } from '../helpers/raw-http.js';
import { RecordingProxy } from '../helpers/recording-proxy.js';
import { type Served, startServe } from '../helpers/serve.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

/**
 * The browser's session, attacked from outside: another service on this host and another local
 * process get everything the browser would hand them (its cookies for 127.0.0.1), and what the
 * server sees of the login link is recorded on the wire.
 */
let browser: Browser;
let served: Served;
let home: string;
/** In front of credport serve, so the test sees every request line the server was sent. */
let proxy: RecordingProxy;
/** Another service on 127.0.0.1 (another port): it sets a cookie, as any local web app may. */
let neighbour: Server;
let neighbourUrl: string;

beforeAll(async () => {
  home = await tempHome();
  [served, browser] = await Promise.all([startServe({ home }), launchChromium()]);
  proxy = await RecordingProxy.start(() => served.url);
  neighbour = createServer((_req, res) =>
    res.writeHead(200, { 'set-cookie': 'neighbour_session=abc123; Path=/', 'content-type': 'text/plain' }).end('another service'),
  );
  await new Promise<void>((resolve) => neighbour.listen(0, '127.0.0.1', resolve));
  neighbourUrl = `http://127.0.0.1:${(neighbour.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.stop();
  await new Promise((resolve) => neighbour?.close(resolve));
  await served?.stop();
  await removeHome(home);
});

const signedIn = (page: Page) => page.getByRole('heading', { name: 'Choose a data source' }).waitFor();
const signedOut = (page: Page) => page.getByRole('heading', { name: 'Not signed in' }).waitFor();
const storedToken = (page: Page) => page.evaluate("sessionStorage.getItem('credport.session')") as Promise<string | null>;

async function signInTab(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(await served.nextLoginUrl());
  await signedIn(page);
  return page;
}

describe('the login link', () => {
  it('carries its code in the fragment: the server never sees a URL with it, only one POST body; the code leaves the address bar', async () => {
    const link = new URL(await served.nextLoginUrl());
    const code = link.hash.slice('#login='.length);
    expect(link.hash).toMatch(/^#login=[\w-]{32}$/);
    expect(`${link.origin}${link.pathname}${link.search}`).toBe(`${served.url}/`);
    const page = await browser.context.newPage();
    await page.goto(`${proxy.url}/${link.hash}`);
    await signedIn(page);
    expect(page.url()).toBe(`${proxy.url}/`);
    expect(await page.evaluate('location.hash')).toBe('');
    // What the server was sent: no request line holds the code; it went once, in the body of the exchange.
    expect(proxy.log.length).toBeGreaterThan(3);
    expect(proxy.log.filter((exchange) => exchange.path.includes(code))).toEqual([]);
    expect(proxy.log.filter((exchange) => exchange.method !== 'GET').map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      'POST /api/v1/session 201',
    ]);
    // Used once: a second exchange of the same code fails, from a process or from another tab.
    const again = await rawRequest(served.url, 'POST', '/api/v1/session', { body: { code } });
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('login_code_invalid');
    const second = await browser.context.newPage();
    await second.goto(`${proxy.url}/${link.hash}`);
    await signedOut(second);
    expect(await second.getByRole('alert').textContent()).toContain('This login link was used already or is not valid');
    expect(second.url()).toBe(`${proxy.url}/`);
    await Promise.all([page.close(), second.close()]);
  });
});

describe('the session', () => {
  it("is useless to whoever gets the browser's cookies: replayed by another process with the server's own Origin, it reads nothing and mints no token", async () => {
    const neighbourPage = await browser.context.newPage();
    await neighbourPage.goto(neighbourUrl);
    const page = await signInTab();
    // Cookies are per host, not per port: everything the browser holds for 127.0.0.1 goes to every port.
    const cookies = await browser.context.cookies(served.url);
    // ... and credport set none: the neighbour's is the only cookie there is.
    expect(cookies.map((c) => c.name)).toEqual(['neighbour_session']);
    const replay = { cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; '), origin: served.url };
    const read = await rawRequest(served.url, 'GET', '/api/v1/credentials', { headers: replay });
    expect(read.status).toBe(401);
    const minted = await rawRequest(served.url, 'POST', '/api/v1/tokens', { headers: replay, body: { name: 'stolen', role: 'admin' } });
    expect(minted.status).toBe(401);
    expect(minted.text).not.toMatch(/cpt_/);
    // The tab itself is signed in all along: its token travels in a header only its own script sends.
    expect(await storedToken(page)).toMatch(/^cps_/);
    await page.reload();
    await signedIn(page);
    await Promise.all([page.close(), neighbourPage.close()]);
  });

  it('is kept per tab, survives a reload, and ends for good on Sign out', async () => {
    const page = await signInTab();
    await page.reload();
    await signedIn(page);
    const token = (await storedToken(page))!;
    expect((await rawRequest(served.url, 'GET', '/api/v1/connectors', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const other = await browser.context.newPage();
    await other.goto(`${served.url}/`);
    await signedOut(other);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signedOut(page);
    expect(await storedToken(page)).toBeNull();
    const ended = await rawRequest(served.url, 'GET', '/api/v1/connectors', { headers: { authorization: `Bearer ${token}` } });
    expect(ended.status).toBe(401);
    await page.reload();
    await signedOut(page);
    await Promise.all([page.close(), other.close()]);
  });
});
