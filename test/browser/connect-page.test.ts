import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AxeBuilder } from '@axe-core/playwright';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Frame, FrameLocator, Page } from 'playwright-core';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { type Browser, launchChromium, screenshot } from '../helpers/browser.js';
import { type Served, startServe } from '../helpers/serve.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

/**
 * The Connect page itself, in Debian's Chromium, framed cross-site: credport (the real CLI) on
 * 127.0.0.1 and a minimal host page on 127.0.0.2 (another site to Chromium) that frames the page
 * and posts the token by hand, as the SDK would. A third site, 127.0.0.3, plays whoever else tries
 * to hand the page a token. The full flows through the real SDK and the host example are the host
 * helper's tests; these are the page's own promises.
 */
const API_TOKEN = 'connect-page-test-token-0123456789abcdef';
const FRONT_TOKEN = `emu_${'c'.repeat(24)}connectpage`;
const NEXT_TOKEN = `emu_${'d'.repeat(24)}reconnected`;

let browser: Browser;
let served: Served;
let home: string;
let front: FrontEmulator;
let host: Site;
let other: Site;

/** A tiny site on its own loopback address: every path answers the same page. */
interface Site {
  origin: string;
  close: () => Promise<void>;
}

async function startSite(address: string, html: string): Promise<Site> {
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    response.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://${address}:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The host fixture: frames a URL on demand, records every message it receives, posts what the test says. */
const HOST_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host app</title></head><body>
<h1>Host app</h1><div id="slot"></div>
<script>
window.received = [];
addEventListener('message', (event) => {
  const frame = document.querySelector('iframe[title="Connect"]');
  window.received.push({ origin: event.origin, fromConnect: !!frame && event.source === frame.contentWindow, data: event.data });
});
window.frameConnect = (url) => {
  const frame = document.createElement('iframe');
  frame.src = url; frame.title = 'Connect'; frame.width = 900; frame.height = 760;
  document.getElementById('slot').append(frame);
};
window.frameOther = (url, title) => {
  const frame = document.createElement('iframe');
  frame.src = url; frame.title = title;
  document.body.append(frame);
};
window.offerToSibling = (message) => parent.frames[0].postMessage(message, '*');
window.openPopup = (url) => { window.popup = window.open(url, 'connect-popup'); };
window.postToPopup = (message, targetOrigin) => window.popup.postMessage(message, targetOrigin);
window.postToConnect = (message, targetOrigin) =>
  document.querySelector('iframe[title="Connect"]').contentWindow.postMessage(message, targetOrigin);
</script></body></html>`;

/** Another site's page: it may reach the Connect page (a sibling frame, or a popup it opened) and offers it a token. */
const OTHER_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Other site</title></head><body>
<h1>Other site</h1>
<script>
window.received = [];
addEventListener('message', (event) => window.received.push({ origin: event.origin, data: event.data }));
window.offerToSibling = (message) => parent.frames[0].postMessage(message, '*');
window.openConnect = (url) => { window.popup = window.open(url, 'connect'); };
window.offerToPopup = (message) => window.popup.postMessage(message, '*');
</script></body></html>`;

beforeAll(async () => {
  front = await new FrontEmulator({ tokens: [FRONT_TOKEN, NEXT_TOKEN] }).start();
  home = await tempHome();
  [served, browser, host, other] = await Promise.all([
    // The operator lets Front credentials point at the emulator on loopback.
    startServe({ home, env: { CREDPORT_API_TOKEN: API_TOKEN, CREDPORT_ALLOWED_ORIGINS: `front=${front.url}` } }),
    launchChromium(),
    startSite('127.0.0.2', HOST_PAGE),
    startSite('127.0.0.3', OTHER_PAGE),
  ]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await Promise.all([front?.stop(), host?.close(), other?.close()]);
  await removeHome(home);
});

/** What the host's back end does: a session for one end user, its page allowed on the host's origin only. */
async function mint(body: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
  const response = await fetch(`${served.url}/api/v1/connect/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ endUser: { id: 'user-42' }, allowedOrigins: [host.origin], connectors: ['front'], mode: 'create', ...body }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; token: string };
}

const tokenMessage = (sessionToken: string, extra: Record<string, unknown> = {}) => ({
  source: 'credport',
  version: 1,
  type: 'token',
  payload: { sessionToken, ...extra },
});

interface Received {
  origin: string;
  fromConnect: boolean;
  data: { source: string; version: number; type: string; payload: Record<string, unknown> };
}
const received = (page: Page) => page.evaluate('window.received') as Promise<Received[]>;

async function waitForMessage(page: Page, type: string): Promise<void> {
  await page.waitForFunction(`window.received.some((m) => m.data && m.data.type === ${JSON.stringify(type)})`);
}

/** The host page with the Connect page of session `id` framed in it, once the page said hello. */
async function framed(id: string, watch?: (page: Page) => void): Promise<{ page: Page; connect: FrameLocator; exchanges: string[] }> {
  const page = await browser.context.newPage();
  watch?.(page);
  const exchanges: string[] = [];
  page.on('request', (request) => request.url().endsWith('/api/v1/connect/exchange') && exchanges.push(request.url()));
  await page.goto(`${host.origin}/host`);
  await page.evaluate(`window.frameConnect(${JSON.stringify(`${served.url}/connect/${id}`)})`);
  await waitForMessage(page, 'hello');
  return { page, connect: page.frameLocator('iframe[title="Connect"]'), exchanges };
}

/** WCAG 2.1 A and AA violations on the Connect page's frame (axe reaches into it), by rule and element. */
async function violations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page })
    .include('iframe[title="Connect"]')
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return result.violations.flatMap((v) => v.nodes.map((node) => `${v.id}: ${node.target.join(' ')}`));
}

const connectFrame = (page: Page): Frame => page.frames().find((frame) => frame.url().startsWith(`${served.url}/connect/`))!;

describe('the Connect page, framed by a host on another site', () => {
  it('says hello to the host with its session id, and only to the host origin', async () => {
    const { id } = await mint();
    const { page } = await framed(id);
    const [hello] = await received(page);
    expect(hello).toEqual({
      origin: served.url,
      fromConnect: true,
      data: { source: 'credport', version: 1, type: 'hello', payload: { sessionId: id } },
    });
    await page.close();
  });

  it('ignores a token from another window or origin, or in another envelope or for another session: no exchange is made', async () => {
    const { id, token } = await mint();
    const elsewhere = await mint();
    const { page, connect, exchanges } = await framed(id);
    // Sibling frames reach the Connect page and offer the right token: one of another site, and one
    // of the host's own origin (an allowed origin, but not the window that framed the page).
    await page.evaluate(`window.frameOther(${JSON.stringify(`${other.origin}/other`)}, 'Other')`);
    await page.evaluate(`window.frameOther(${JSON.stringify(`${host.origin}/sibling`)}, 'Sibling')`);
    await page.frameLocator('iframe[title="Other"]').getByRole('heading', { name: 'Other site' }).waitFor();
    await page.frameLocator('iframe[title="Sibling"]').getByRole('heading', { name: 'Host app' }).waitFor();
    for (const origin of [other.origin, host.origin]) {
      const sibling = page.frames().find((frame) => frame.url().startsWith(origin) && frame !== page.mainFrame())!;
      await sibling.evaluate(`window.offerToSibling(${JSON.stringify(tokenMessage(token))})`);
    }
    // The host itself, but not in credport's envelope, or with another session's token.
    await page.evaluate(`window.postToConnect(${JSON.stringify({ ...tokenMessage(token), version: 2 })}, ${JSON.stringify(served.url)})`);
    await page.evaluate(
      `window.postToConnect(${JSON.stringify({ ...tokenMessage(token), source: 'other' })}, ${JSON.stringify(served.url)})`,
    );
    await page.evaluate(`window.postToConnect(${JSON.stringify(tokenMessage(elsewhere.token))}, ${JSON.stringify(served.url)})`);
    await page.waitForTimeout(700);
    expect(exchanges).toEqual([]);
    expect(await connect.getByRole('status').textContent()).toBe('Connecting...');
    // The page was listening all along: the host's own token is taken, once.
    await page.evaluate(`window.postToConnect(${JSON.stringify(tokenMessage(token))}, ${JSON.stringify(served.url)})`);
    await waitForMessage(page, 'ready');
    expect(exchanges).toHaveLength(1);
    await page.close();
  });

  it('ignores a token from an opener on an origin the session does not allow (a popup it opened)', async () => {
    const { id, token } = await mint();
    const opener = await browser.context.newPage();
    const exchanges: string[] = [];
    const watch = (request: { url(): string }) => request.url().endsWith('/api/v1/connect/exchange') && exchanges.push(request.url());
    browser.context.on('request', watch);
    await opener.goto(`${other.origin}/other`);
    const [popup] = await Promise.all([
      browser.context.waitForEvent('page'),
      opener.evaluate(`window.openConnect(${JSON.stringify(`${served.url}/connect/${id}`)})`),
    ]);
    await popup.getByRole('status').filter({ hasText: 'Connecting...' }).waitFor();
    // window.opener survived (COOP unsafe-none), so this reaches the page: from the opener, but from a foreign origin.
    await opener.evaluate(`window.offerToPopup(${JSON.stringify(tokenMessage(token))})`);
    await opener.waitForTimeout(700);
    expect(exchanges).toEqual([]);
    expect(await popup.getByRole('status').textContent()).toBe('Connecting...');
    // Its hello went to the session's origins only: the foreign opener heard nothing.
    expect(await opener.evaluate('window.received')).toEqual([]);
    browser.context.off('request', watch);
    await popup.close();
    await opener.close();
  });

  it('sends its events only to the origin the token came from: a popup whose opener moved to another site tells it nothing', async () => {
    const { id, token } = await mint({ mode: 'pick' });
    const opener = await browser.context.newPage();
    await opener.goto(`${host.origin}/host`);
    const [popup] = await Promise.all([
      browser.context.waitForEvent('page'),
      opener.evaluate(`window.openPopup(${JSON.stringify(`${served.url}/connect/${id}`)})`),
    ]);
    await waitForMessage(opener, 'hello');
    await opener.evaluate(`window.postToPopup(${JSON.stringify(tokenMessage(token))}, ${JSON.stringify(served.url)})`);
    await waitForMessage(opener, 'ready');
    await popup.getByRole('heading', { name: 'Choose a credential' }).waitFor();
    // The opener window goes to another site (its own navigation); the popup keeps its reference to that window.
    await Promise.all([
      opener.waitForURL(`${other.origin}/other`),
      opener.evaluate(`location.href = ${JSON.stringify(`${other.origin}/other`)}`),
    ]);
    await opener.waitForFunction('Array.isArray(window.received)');
    await popup.getByRole('button', { name: 'Cancel' }).click();
    await popup.getByRole('status').filter({ hasText: 'Cancelled.' }).waitFor();
    await opener.waitForTimeout(300);
    expect(await opener.evaluate('window.received')).toEqual([]);
    await popup.close();
    await opener.close();
  });

  it('create: a Front credential saved against the emulator; the host gets ready, credential.created with the tile, then close; the bearer is kept nowhere', async () => {
    const { id, token } = await mint({ prefill: { name: 'Front for Pam' } });
    const { page, connect } = await framed(id);
    let bearer = '';
    page.on('response', async (response) => {
      if (response.url().endsWith('/api/v1/connect/exchange')) bearer = ((await response.json()) as { bearer: string }).bearer;
    });
    await page.evaluate(
      `window.postToConnect(${JSON.stringify(tokenMessage(token, { appearance: { colorScheme: 'dark', accent: '#aa3300' } }))}, ${JSON.stringify(served.url)})`,
    );
    const dialog = connect.getByRole('dialog', { name: 'Add New Credential' });
    await dialog.waitFor();
    // The session's prefill, and the host's appearance through CSS custom properties (no inline style).
    expect(await dialog.getByLabel('Credential Name').inputValue()).toBe('Front for Pam');
    const frame = connectFrame(page);
    expect(await frame.evaluate('document.documentElement.dataset.colorScheme')).toBe('dark');
    expect(await frame.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--cp-accent').trim()")).toBe('#aa3300');
    await dialog.getByLabel('API Key Value').fill(FRONT_TOKEN);
    if (!(await dialog.getByLabel('Base URL').isVisible())) await dialog.getByText('Advanced').click();
    await dialog.getByLabel('Base URL').fill(front.url);
    await screenshot(page, 'connect-create-overlay');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await waitForMessage(page, 'close');

    const messages = await received(page);
    // Every message came from the Connect frame, from credport's origin, in the envelope.
    for (const message of messages) {
      expect(message.origin).toBe(served.url);
      expect(message.fromConnect).toBe(true);
      expect(message.data).toMatchObject({ source: 'credport', version: 1 });
    }
    expect(messages.map((m) => m.data.type)).toEqual(['hello', 'ready', 'credential.created', 'close']);
    expect(messages[1]!.data.payload).toEqual({ sessionId: id, mode: 'create' });
    const tile = messages[2]!.data.payload.tile as Record<string, unknown>;
    expect(tile).toMatchObject({ connector: 'front', name: 'Front for Pam', status: 'verified', endUserId: 'user-42' });
    expect(messages[3]!.data.payload).toEqual({ reason: 'completed' });

    // The host's back end reads the session as completed with that tile.
    const session = (await (
      await fetch(`${served.url}/api/v1/connect/sessions/${id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } })
    ).json()) as { state: string; outcome: { action: string; credentialId: string } };
    expect(session).toMatchObject({ state: 'completed', outcome: { action: 'created', credentialId: tile.id } });

    // The secret, the session's token and the bearer: in no message to the host, no storage, cookie or URL.
    expect(bearer).toMatch(/^ccb_/);
    // Chromium may deny a cross-site frame its storage altogether (then nothing can be there, and a page
    // that reached for sessionStorage would have thrown); where it allows it, it is empty.
    const kept = (await frame.evaluate(`JSON.stringify([
      (() => { try { return Object.entries(localStorage); } catch { return 'denied'; } })(),
      (() => { try { return Object.entries(sessionStorage); } catch { return 'denied'; } })(),
      document.cookie, location.href])`)) as string;
    const [local, tabStore, cookie, url] = JSON.parse(kept) as [unknown, unknown, string, string];
    expect([[], 'denied']).toContainEqual(local);
    expect([[], 'denied']).toContainEqual(tabStore);
    expect([cookie, url]).toEqual(['', `${served.url}/connect/${id}`]);
    expect(await browser.context.cookies()).toEqual([]);
    const hostSide = JSON.stringify(messages) + page.url() + (await page.content());
    for (const secret of [FRONT_TOKEN, token, bearer]) {
      expect(hostSide).not.toContain(secret);
      expect(kept).not.toContain(secret);
      expect(await frame.content()).not.toContain(secret);
    }
    await page.close();
  });

  it('pick: the tiles show before any form code is fetched (the overlay loads it), and Escape cancels', async () => {
    const { id, token } = await mint({ mode: 'pick' });
    // Every script the page fetched until its tiles showed: the entry and its static imports, and nothing else.
    const scripts: Promise<string>[] = [];
    const { page, connect } = await framed(id, (tab) =>
      tab.on('response', (response) => response.url().endsWith('.js') && scripts.push(response.text())),
    );
    await page.evaluate(`window.postToConnect(${JSON.stringify(tokenMessage(token))}, ${JSON.stringify(served.url)})`);
    await connect.getByRole('heading', { name: 'Choose a credential' }).waitFor();
    await connect.getByRole('button', { name: 'Add Credential' }).waitFor();
    await page.waitForTimeout(300);
    const code = await Promise.all(scripts);
    expect(code.length).toBeGreaterThan(0);
    // react-jsonschema-form (its class names say rjsf) and ajv's messages are in none of them.
    for (const text of code) {
      expect(text).not.toContain('rjsf');
      expect(text).not.toContain('must have required property');
    }
    expect(await violations(page)).toEqual([]);

    await connect.getByRole('button', { name: 'Use this credential' }).waitFor();
    await connect.getByRole('heading', { name: 'Choose a credential' }).press('Escape');
    await waitForMessage(page, 'close');
    const messages = await received(page);
    expect(messages.map((m) => m.data.type)).toEqual(['hello', 'ready', 'close']);
    expect(messages[1]!.data.payload).toEqual({ sessionId: id, mode: 'pick' });
    expect(messages[2]!.data.payload).toEqual({ reason: 'cancelled' });
    await page.close();
  });

  it("shows a tenant's markup as text: a tile's name and description, the session's prefill; nothing runs, nothing is styled by it", async () => {
    // What a tenant (or an end user, on a tile the workspace shares) controls, written to run or to restyle the page.
    const name = '<img src=x onerror="top.pwned=1">';
    const description = '</p><style>*{display:none}</style><script>top.pwned=2</script>';
    const prefill = { name: '<b id="bold">prefilled</b>', description: '"><svg onload="top.pwned=3">' };
    const added = await fetch(`${served.url}/api/v1/credentials`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ connector: 'front', baseUrl: front.url, values: { name, description, apiKey: FRONT_TOKEN } }),
    });
    expect(added.status).toBe(201);
    const { id, token } = await mint({ mode: 'pick', showWorkspaceCredentials: true, prefill });
    const { page, connect } = await framed(id);
    await page.evaluate(`window.postToConnect(${JSON.stringify(tokenMessage(token))}, ${JSON.stringify(served.url)})`);
    const tile = connect.getByRole('radio', { name });
    await tile.waitFor();
    await connect.getByText(description, { exact: true }).waitFor();

    await connect.getByRole('button', { name: 'Add Credential' }).click();
    await connect.getByRole('dialog').waitFor();
    expect(await connect.getByRole('textbox', { name: /Credential Name/ }).inputValue()).toBe(prefill.name);
    expect(await connect.getByRole('textbox', { name: /Credential Description/ }).inputValue()).toBe(prefill.description);

    const frame = connectFrame(page);
    expect(await frame.evaluate('document.querySelectorAll("img, svg, b#bold, main style, main script").length')).toBe(0);
    expect([await frame.evaluate('window.pwned'), await page.evaluate('window.pwned')]).toEqual([undefined, undefined]);
    await page.close();
  });

  it("reconnect: only the credential's secret, rotated in place; the host gets credential.reconnected with the same id, then close", async () => {
    const added = await fetch(`${served.url}/api/v1/credentials`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ connector: 'front', baseUrl: front.url, values: { name: 'Shared inbox', apiKey: FRONT_TOKEN } }),
    });
    expect(added.status).toBe(201);
    const credential = (await added.json()) as { id: string; revision: number };
    const { id, token } = await mint({ mode: 'reconnect', credentialId: credential.id });
    const { page, connect } = await framed(id);
    await page.evaluate(`window.postToConnect(${JSON.stringify(tokenMessage(token))}, ${JSON.stringify(served.url)})`);
    const dialog = connect.getByRole('dialog', { name: 'Rotate Shared inbox' });
    await dialog.waitFor();
    // The secret only: the name and description stay as they are.
    expect(await dialog.getByLabel('Credential Name').count()).toBe(0);
    await dialog.getByLabel('API Key Value').fill(NEXT_TOKEN);
    await dialog.getByRole('button', { name: 'Rotate' }).click();
    await waitForMessage(page, 'close');
    const messages = await received(page);
    expect(messages.map((m) => m.data.type)).toEqual(['hello', 'ready', 'credential.reconnected', 'close']);
    const tile = messages[2]!.data.payload.tile as { id: string; revision: number; status: string; secretHint?: string };
    expect(tile).toMatchObject({ id: credential.id, status: 'verified', revision: credential.revision + 1 });
    expect(JSON.stringify(messages)).not.toContain(NEXT_TOKEN);
    await page.close();
  });

  it('pick with several connectors: the data source type first, then a tile chosen; the host gets credential.selected, then close', async () => {
    const added = await fetch(`${served.url}/api/v1/credentials`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ connector: 'front', baseUrl: front.url, values: { name: 'Team inbox', apiKey: FRONT_TOKEN } }),
    });
    expect(added.status).toBe(201);
    const credential = (await added.json()) as { id: string };
    const { id, token } = await mint({ mode: 'pick', connectors: ['front', 'frontline'], showWorkspaceCredentials: true });
    const { page, connect } = await framed(id);
    await page.evaluate(`window.postToConnect(${JSON.stringify(tokenMessage(token))}, ${JSON.stringify(served.url)})`);
    await connect.getByRole('heading', { name: 'Choose a data source' }).waitFor();
    await connect.getByRole('button', { name: 'Frontline', exact: true }).waitFor();
    await connect.getByRole('button', { name: 'Front', exact: true }).click();
    await connect.getByRole('article', { name: 'Team inbox' }).getByRole('radio').check();
    await connect.getByRole('button', { name: 'Use this credential' }).click();
    await waitForMessage(page, 'close');
    const messages = await received(page);
    expect(messages.map((m) => m.data.type)).toEqual(['hello', 'ready', 'credential.selected', 'close']);
    expect(messages[2]!.data.payload.tile).toMatchObject({ id: credential.id, name: 'Team inbox' });
    expect(messages[3]!.data.payload).toEqual({ reason: 'completed' });
    const session = (await (
      await fetch(`${served.url}/api/v1/connect/sessions/${id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } })
    ).json()) as Record<string, unknown>;
    expect(session).toMatchObject({ state: 'completed', outcome: { action: 'picked', credentialId: credential.id } });
    await page.close();
  });

  it('a bearer refused later (its session revoked): the same alert and error event, at the next request', async () => {
    const { id, token } = await mint({ mode: 'pick' });
    const { page, connect } = await framed(id);
    await page.evaluate(`window.postToConnect(${JSON.stringify(tokenMessage(token))}, ${JSON.stringify(served.url)})`);
    await connect.getByRole('button', { name: 'Add Credential' }).waitFor();
    const revoked = await fetch(`${served.url}/api/v1/connect/sessions/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(revoked.status).toBe(200);
    await connect.getByRole('button', { name: 'Add Credential' }).click();
    await connect.getByRole('alert').filter({ hasText: 'Connect could not continue' }).waitFor();
    await waitForMessage(page, 'error');
    const messages = await received(page);
    expect(messages.map((m) => m.data.type)).toEqual(['hello', 'ready', 'error']);
    expect(messages[2]!.data.payload).toMatchObject({ status: 401 });
    await connect.getByRole('button', { name: 'Close' }).click();
    await waitForMessage(page, 'close');
    expect((await received(page))[3]!.data.payload).toEqual({ reason: 'error' });
    await page.close();
  });

  it("a used token: the server's words in an alert, and an error event to the host", async () => {
    const { id, token } = await mint();
    const first = await framed(id);
    await first.page.evaluate(`window.postToConnect(${JSON.stringify(tokenMessage(token))}, ${JSON.stringify(served.url)})`);
    await waitForMessage(first.page, 'ready');
    await first.page.close();
    // The same session's page again (a reload), handed the same token: exchanged already.
    const { page, connect } = await framed(id);
    await page.evaluate(`window.postToConnect(${JSON.stringify(tokenMessage(token))}, ${JSON.stringify(served.url)})`);
    const alert = connect.getByRole('alert').filter({ hasText: 'Connect could not continue' });
    await alert.waitFor();
    expect(await alert.textContent()).toContain('exchanged already');
    await waitForMessage(page, 'error');
    const error = (await received(page)).find((m) => m.data.type === 'error')!;
    expect(error.data.payload).toMatchObject({ code: 'connect_token_used', status: 410 });
    expect(error.data.payload.detail).toContain('exchanged already');
    expect(await violations(page)).toEqual([]);
    await page.close();
  });
});
