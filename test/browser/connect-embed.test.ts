import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Frame, FrameLocator, Page } from 'playwright-core';
import { type CredportClient, createCredportClient } from '../../src/client/index.js';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { expectNoAxeViolations } from '../helpers/axe.js';
import { type Browser, launchChromium, screenshot } from '../helpers/browser.js';
import { type HostExample, startHostExample } from '../helpers/host-example.js';
import { rawRequest } from '../helpers/raw-http.js';
import { runCli } from '../helpers/run-cli.js';
import { type Served, startServe } from '../helpers/serve.js';
import { fakeToken, removeHome, tempHome } from '../helpers/temp-home.js';
import { descriptionOf } from './browser-checks.js';

/**
 * The whole Connect flow across two sites, as a host runs it: `credport serve` (the real CLI) on
 * 127.0.0.1, the host example (examples/host, spawned as its README runs it, holding a workspace's
 * editor token) on 127.0.0.2, and Debian's Chromium. A person works in the Connect page inside the
 * host's page; the host page only ever sees tiles, and its back end reads what credport recorded.
 */
let browser: Browser;
let served: Served;
let home: string;
let front: FrontEmulator;
let host: HostExample;
/** The host's own token (editor of workspace acme), for what the test checks behind the host's back. */
let acme: CredportClient;
let viewerToken: string;
let otherWorkspaceToken: string;
/** Another site's page on loopback (127.0.0.2, another port): the origin no session allows. */
let stranger: Server;
let strangerUrl: string;

const GOOD = `emu_${'h'.repeat(20)}host`;
/** A flow in the browser takes 5 to 15 s alone; the CI machine's two cores are shared. */
const FLOW_MS = 90_000;

beforeAll(async () => {
  front = await new FrontEmulator({ records: 20, tokens: [GOOD] }).start();
  home = await tempHome();
  const [editor, viewer, other] = await Promise.all([
    workspaceToken('acme', 'editor'),
    workspaceToken('acme', 'viewer'),
    workspaceToken('other', 'editor'),
  ]);
  viewerToken = viewer;
  otherWorkspaceToken = other;
  // The operator lets Front credentials point at the emulator on loopback (a tenant may not otherwise).
  [served, browser] = await Promise.all([startServe({ home, args: ['--allow-origin', `front=${front.url}`] }), launchChromium()]);
  host = await startHostExample({ credport: served.url, token: editor });
  acme = createCredportClient({ baseUrl: served.url, token: editor });
  stranger = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><html lang="en"><title>Another site</title><h1>Another site</h1></html>');
  });
  await new Promise<void>((resolve) => stranger.listen(0, '127.0.0.2', resolve));
  strangerUrl = `http://127.0.0.2:${(stranger.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await host?.stop();
  await served?.stop();
  await new Promise((resolve) => stranger?.close(resolve));
  await front?.stop();
  await removeHome(home);
});

async function workspaceToken(workspace: string, role: string): Promise<string> {
  const made = await runCli(['tokens', 'create', '--workspace', workspace, '--role', role, '--name', `${workspace} ${role}`, '--json'], {
    env: { CREDPORT_HOME: home },
  });
  if (made.code !== 0) throw new Error(`tokens create: ${made.stderr}`);
  return (JSON.parse(made.stdout) as { token: string }).token;
}

/** Every message the host page's window received, recorded before any of its scripts runs. */
const RECORD_MESSAGES = `
  window.__received = [];
  window.addEventListener('message', (event) => {
    let data;
    try { data = JSON.stringify(event.data); } catch { data = String(event.data); }
    window.__received.push({ origin: event.origin, data });
  }, true);
`;

interface Received {
  origin: string;
  data: string;
}

/** What went over the wire, per page: every URL asked for, every answer with the frame it went to. */
interface Traffic {
  urls: string[];
  answers: { url: string; frame: 'host' | 'connect'; body: Promise<string> }[];
  /** The connect session tokens the host's back end handed its page. */
  sessionTokens: string[];
  /** The bearers the Connect page got for them. */
  bearers: string[];
  problems: string[];
}

function watchTraffic(page: Page, traffic: Traffic, connectPage = false): void {
  page.on('request', (request) => traffic.urls.push(request.url()));
  page.on('response', (response) => {
    const url = response.url();
    const frame = connectPage || url.startsWith(served.url) ? 'connect' : 'host';
    const body = response.text().catch(() => '');
    traffic.answers.push({ url, frame, body });
    // Read now, while the answer's body is still there to read: the tokens the test then looks for everywhere else.
    const keep = (list: string[], field: 'token' | 'bearer') =>
      void body.then((text) => {
        const value = /"(?:token|bearer)":"([^"]+)"/.exec(text)?.[1];
        if (value && text.includes(`"${field}"`)) list.push(value);
        else traffic.problems.push(`could not read the ${field} in the answer of ${url}: ${text.slice(0, 40)}`);
      });
    if (url === `${host.url}/api/connect-session` && response.request().method() === 'POST' && response.status() === 201)
      keep(traffic.sessionTokens, 'token');
    if (url === `${served.url}/api/v1/connect/exchange` && response.status() === 200) keep(traffic.bearers, 'bearer');
  });
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) traffic.problems.push(message.text());
  });
  page.on('pageerror', (error) => traffic.problems.push(error.message));
}

interface HostPage {
  page: Page;
  traffic: Traffic;
}

/** The host example's page, signed in as its demo end user, with Connect's SDK loaded. */
async function openHost(): Promise<HostPage> {
  const page = await browser.context.newPage();
  await page.addInitScript(RECORD_MESSAGES);
  const traffic: Traffic = { urls: [], answers: [], sessionTokens: [], bearers: [], problems: [] };
  watchTraffic(page, traffic);
  await page.goto(host.url);
  await page.getByRole('status').filter({ hasText: 'Ready' }).waitFor();
  return { page, traffic };
}

const received = async (page: Page) => JSON.parse((await page.evaluate('JSON.stringify(window.__received)')) as string) as Received[];
const hostLog = (page: Page) => page.getByRole('log', { name: 'Connect events' });

/** The Connect page's frame inside the host page (the SDK's iframe). */
function connectFrame(page: Page): FrameLocator {
  return page.locator(`iframe[src^="${served.url}/connect/"]`).contentFrame();
}

async function waitForLogLine(page: Page, text: string | RegExp): Promise<string> {
  const line = hostLog(page).getByRole('listitem').filter({ hasText: text }).last();
  await line.waitFor();
  return (await line.textContent()) ?? '';
}

/** Fills the Add New Credential overlay of the Connect page and presses Save. */
async function fillOverlay(connect: FrameLocator | Page, fields: Record<string, string>, baseUrl?: string): Promise<void> {
  const dialog = connect.getByRole('dialog', { name: 'Add New Credential' });
  for (const [label, value] of Object.entries(fields)) await dialog.getByLabel(label, { exact: false }).first().fill(value);
  if (baseUrl !== undefined) {
    if (!(await dialog.getByLabel('Base URL').isVisible())) await dialog.getByText('Advanced').click();
    await dialog.getByLabel('Base URL').fill(baseUrl);
  }
  await dialog.getByRole('button', { name: 'Save' }).click();
}

/**
 * After a flow: no secret, session token or bearer anywhere the host page can reach (its DOM, the
 * messages it received, its storage, cookies and URLs), nor in what the Connect page received or
 * keeps (its answers, its storage, its URL). The only answers that may carry a session token or a
 * bearer are the ones made to hand them over: the host back end's session answer, the exchange.
 */
async function expectNothingLeaked(page: Page, traffic: Traffic, secrets: string[], connect?: { page?: Page; traffic?: Traffic }) {
  const tokens = [...traffic.sessionTokens, ...(connect?.traffic?.sessionTokens ?? [])];
  const bearers = [...traffic.bearers, ...(connect?.traffic?.bearers ?? [])];
  expect(tokens.length).toBeGreaterThan(0);
  expect(bearers.length).toBeGreaterThan(0);
  const everything = [...secrets, ...tokens, ...bearers];
  const html = await page.content();
  const values = (await page.evaluate(
    "JSON.stringify([...document.querySelectorAll('input, textarea, select')].map((e) => e.value))",
  )) as string;
  const messages = JSON.stringify(await received(page));
  const storageOf = (target: Page | Frame) =>
    target.evaluate('JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie])') as Promise<string>;
  const connectTarget = connect?.page ?? page.frames().find((f) => f.url().startsWith(`${served.url}/connect/`));
  const storages = [await storageOf(page), ...(connectTarget ? [await storageOf(connectTarget)] : [])];
  const cookies = JSON.stringify(await browser.context.cookies());
  const urls = [
    ...traffic.urls,
    ...(connect?.traffic?.urls ?? []),
    page.url(),
    ...page.frames().map((f) => f.url()),
    connect?.page?.url() ?? '',
  ];
  const answers = [...traffic.answers, ...(connect?.traffic?.answers ?? [])];
  expect(answers.some((a) => a.frame === 'connect')).toBe(true);
  for (const value of everything) {
    expect(html).not.toContain(value);
    expect(values).not.toContain(value);
    expect(messages).not.toContain(value);
    for (const storage of storages) expect(storage).not.toContain(value);
    expect(cookies).not.toContain(value);
    for (const url of urls) expect(url).not.toContain(value);
  }
  for (const answer of answers) {
    const body = await answer.body;
    for (const secret of secrets) expect(body).not.toContain(secret);
    // The session token is handed to the page by the host's back end and to nobody after; the bearer by the exchange only.
    if (!(answer.frame === 'host' && answer.url.endsWith('/api/connect-session')))
      for (const token of tokens) expect(body).not.toContain(token);
    if (!answer.url.endsWith('/api/v1/connect/exchange')) for (const bearer of bearers) expect(body).not.toContain(bearer);
  }
  // The Connect page's storage holds nothing at all: the bearer lives in a variable.
  for (const storage of storages) expect(storage).toBe('[[],[],""]');
  expect(traffic.problems).toEqual([]);
}

/** What credport recorded, as the host's back end reads it (its GET /api/connect-session/:id). */
async function sessionAsHostSees(id: string): Promise<{ state: string; outcome?: { action: string; credentialId: string } }> {
  const answer = await rawRequest(host.url, 'GET', `/api/connect-session/${id}`);
  expect(answer.status).toBe(200);
  return answer.body as unknown as { state: string; outcome?: { action: string; credentialId: string } };
}

const sessionIdOf = (token: string) => `csn_${/^ccs_([a-z0-9]+)\./.exec(token)![1]}`;

/** The tile id in a host log line ("credential.created: “Name” cred_... (verified)"). */
const tileIdIn = (line: string) => /cred_[a-z0-9]{16,32}/.exec(line)![0];

describe('Connect embedded in a host app on another site', () => {
  it(
    'create: a wrong token refused on API Key Value in Front\u2019s words, a right one saved; the host gets the tile, its back end reads the session completed',
    async () => {
      const { page, traffic } = await openHost();
      await page.getByRole('button', { name: 'Connect Front' }).click();
      const connect = connectFrame(page);
      const dialog = connect.getByRole('dialog', { name: 'Add New Credential' });
      await dialog.waitFor();
      await expectNoAxeViolations(page, 'connect: create, open');
      await screenshot(page, 'connect-embed-1-create');

      // Save with nothing filled in: the field errors, announced on their fields.
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.getByText('is required').first().waitFor();
      await expectNoAxeViolations(page, 'connect: create, field errors');

      const wrong = fakeToken('wrong');
      await fillOverlay(connect, { 'Credential Name': 'Support', 'API Key Value': wrong }, front.url);
      const secret = dialog.getByLabel('API Key Value');
      await dialog.getByText('Unauthenticated').waitFor();
      expect(await descriptionOf(secret)).toContain('Invalid or missing API token');
      expect(await secret.getAttribute('aria-invalid')).toBe('true');
      await expectNoAxeViolations(page, 'connect: create, after a refusal');
      await screenshot(page, 'connect-embed-2-refused');

      // A base URL the operator's policy does not allow: refused on Base URL before anything is sent there.
      const before = front.requests;
      await fillOverlay(connect, { 'API Key Value': GOOD }, 'http://127.0.0.1:9');
      await dialog.getByText('the outbound policy refuses http://127.0.0.1:9').waitFor();
      expect(await dialog.getByLabel('Base URL').getAttribute('aria-invalid')).toBe('true');
      expect(front.requests).toBe(before);

      await fillOverlay(connect, { 'API Key Value': GOOD }, front.url);
      const line = await waitForLogLine(page, 'credential.created');
      expect(line).toContain('“Support”');
      expect(line).toContain('(verified)');
      const id = tileIdIn(line);
      // The event came from credport's origin, as the SDK's onEvent was handed it: the tile, nothing more.
      const created = (await received(page)).filter((m) => m.origin === served.url && m.data.includes('"credential.created"'));
      expect(created).toHaveLength(1);
      expect(JSON.parse(created[0]!.data)).toMatchObject({ source: 'credport', version: 1, payload: { tile: { id, name: 'Support' } } });
      await waitForLogLine(page, /close: .*completed/);
      // The iframe is gone; the host made a data source with the tile's id through its back end.
      await page.locator('iframe').waitFor({ state: 'detached' });
      await page
        .getByRole('listitem')
        .filter({ hasText: `credential ${id}` })
        .waitFor();
      const session = await sessionAsHostSees(sessionIdOf(traffic.sessionTokens[0]!));
      expect(session).toMatchObject({ state: 'completed', outcome: { action: 'created', credentialId: id } });
      await waitForLogLine(page, `is completed`);
      // The tile records its end user, and the host's own token sees it in its workspace.
      expect(await acme.getCredential({ path: { id } })).toMatchObject({ endUserId: 'enduser-1', name: 'Support', status: 'verified' });
      await screenshot(page, 'connect-embed-3-created');
      await expectNothingLeaked(page, traffic, [GOOD, wrong]);
      await page.close();
    },
    FLOW_MS,
  );

  it(
    'pick: an existing tile is chosen; the host receives credential.selected and makes a source with it',
    async () => {
      const tile = await endUserCredential('Picked inbox');
      const { page, traffic } = await openHost();
      // Inline this time: the Connect page as part of the host's page, in the element the host gave.
      await page.getByRole('radio', { name: 'Part of this page' }).check();
      await page.getByRole('button', { name: 'Choose a credential' }).click();
      await page.locator('#connect-inline iframe').waitFor();
      expect(await page.getByRole('dialog').count()).toBe(0);
      const connect = connectFrame(page);
      const picked = connect.getByRole('article', { name: 'Picked inbox' });
      await picked.waitFor();
      await expectNoAxeViolations(page, 'connect: pick, open');
      await screenshot(page, 'connect-embed-4-pick');
      await pickTile(connect, 'Picked inbox');
      const line = await waitForLogLine(page, 'credential.selected');
      expect(tileIdIn(line)).toBe(tile.id);
      await waitForLogLine(page, /close: .*completed/);
      await page.getByRole('radio', { name: new RegExp(`credential ${tile.id}`) }).waitFor();
      const session = await sessionAsHostSees(sessionIdOf(traffic.sessionTokens[0]!));
      expect(session.outcome).toMatchObject({ action: 'picked', credentialId: tile.id });
      await expectNothingLeaked(page, traffic, [GOOD]);
      await page.close();
    },
    FLOW_MS,
  );

  it(
    'reconnect: a tile its provider stopped accepting is repaired in place; same id, and its source syncs again',
    async () => {
      const old = `emu_${'o'.repeat(20)}old`;
      const renewed = `emu_${'n'.repeat(20)}new`;
      front.tokens.add(old);
      const tile = await endUserCredential('Revoked soon', old);
      const source = await hostPost('/api/sources', { credentialId: tile.id });
      const { page, traffic } = await openHost();
      const row = page.getByRole('radio', { name: new RegExp(`source ${(source.body as { id: string }).id}`) });
      await row.check();
      await page.getByRole('button', { name: 'Sync now' }).click();
      await page.getByRole('status').filter({ hasText: 'finished' }).waitFor();

      // The end user revokes the key in Front; the next sync is refused and the tile turns invalid.
      front.tokens.delete(old);
      front.tokens.add(renewed);
      await page.getByRole('button', { name: 'Sync now' }).click();
      await page.getByRole('status').filter({ hasText: 'failed' }).waitFor();
      expect(await acme.getCredential({ path: { id: tile.id } })).toMatchObject({ status: 'invalid' });

      await page.getByRole('button', { name: 'Reconnect' }).click();
      const connect = connectFrame(page);
      // The secret of that credential only, verified before it replaces the old one.
      const dialog = connect.getByRole('dialog', { name: 'Rotate Revoked soon' });
      await dialog.getByLabel('API Key Value').waitFor();
      // The secret only: the name stays as it is.
      expect(await dialog.getByLabel('Credential Name').count()).toBe(0);
      await expectNoAxeViolations(page, 'connect: reconnect, open');
      await screenshot(page, 'connect-embed-5-reconnect');
      // The old secret, which Front no longer takes, is refused on its field in Front's words.
      await dialog.getByLabel('API Key Value').fill(old);
      await dialog.getByRole('button', { name: 'Rotate' }).click();
      await dialog.getByText('Unauthenticated').waitFor();
      expect(await descriptionOf(dialog.getByLabel('API Key Value'))).toContain('Invalid or missing API token');
      await expectNoAxeViolations(page, 'connect: reconnect, after a refusal');
      await dialog.getByLabel('API Key Value').fill(renewed);
      await dialog.getByRole('button', { name: 'Rotate' }).click();
      const line = await waitForLogLine(page, 'credential.reconnected');
      expect(tileIdIn(line)).toBe(tile.id);
      expect(line).toContain('(verified)');
      await waitForLogLine(page, /close: .*completed/);
      expect(await acme.getCredential({ path: { id: tile.id } })).toMatchObject({ status: 'verified', endUserId: 'enduser-1' });
      const session = await sessionAsHostSees(sessionIdOf(traffic.sessionTokens[0]!));
      expect(session).toMatchObject({ state: 'completed', outcome: { action: 'repaired', credentialId: tile.id } });

      await page.getByRole('button', { name: 'Sync now' }).click();
      const synced = page.getByRole('status').filter({ hasText: 'finished' });
      await synced.waitFor();
      expect(await synced.textContent()).toContain((source.body as { id: string }).id);
      await expectNothingLeaked(page, traffic, [GOOD, old, renewed]);
      await page.close();
    },
    FLOW_MS,
  );

  it(
    'popup: the create flow in a popup window; the host page gets the tile and the popup closes',
    async () => {
      const { page, traffic } = await openHost();
      await page.getByRole('radio', { name: 'A popup window' }).check();
      const opened = page.waitForEvent('popup');
      await page.getByRole('button', { name: 'Connect Front' }).click();
      const popup = await opened;
      // Listened for now: the popup may be gone before the host's log shows the close.
      const popupClosed = popup.waitForEvent('close');
      const popupTraffic: Traffic = { urls: [], answers: [], sessionTokens: [], bearers: [], problems: [] };
      watchTraffic(popup, popupTraffic, true);
      const dialog = popup.getByRole('dialog', { name: 'Add New Credential' });
      await dialog.waitFor();
      await expectNoAxeViolations(popup, 'connect: popup, open');
      await fillOverlay(popup, { 'Credential Name': 'From the popup', 'API Key Value': GOOD }, front.url);
      const line = await waitForLogLine(page, 'credential.created');
      expect(line).toContain('“From the popup”');
      await waitForLogLine(page, /close: .*completed/);
      await popupClosed;
      await page.getByRole('radio', { name: new RegExp(`credential ${tileIdIn(line)}`) }).waitFor();
      // The popup's own answers were recorded until it closed: the exchange among them.
      expect(popupTraffic.bearers.length + traffic.bearers.length).toBe(1);
      traffic.bearers.push(...popupTraffic.bearers);
      await expectNothingLeaked(page, traffic, [GOOD], { traffic: popupTraffic });
      await page.close();
    },
    FLOW_MS,
  );
});

describe('refused', () => {
  it(
    'framing by an origin the session does not allow: CSP keeps the page from loading, so nothing is asked for or exchanged',
    async () => {
      const { token } = (await hostPost('/api/connect-session', { mode: 'create' })).body as { token: string };
      const id = sessionIdOf(token);
      const connectUrl = `${served.url}/connect/${id}`;
      // The page is served framable by the host's origin only.
      const served200 = await rawRequest(served.url, 'GET', `/connect/${id}`);
      expect(served200.status).toBe(200);
      expect(served200.headers['content-security-policy']).toContain(`frame-ancestors ${host.url}`);
      expect(served200.headers['content-security-policy']).not.toContain(strangerUrl);

      const page = await browser.context.newPage();
      const traffic: Traffic = { urls: [], answers: [], sessionTokens: [], bearers: [], problems: [] };
      watchTraffic(page, traffic);
      const blocked: string[] = [];
      page.on('console', (message) => blocked.push(message.text()));
      await page.goto(strangerUrl);
      await page.evaluate((url) => {
        const frame = document.createElement('iframe');
        frame.src = url;
        frame.title = 'credport Connect';
        document.body.append(frame);
      }, connectUrl);
      await page.waitForFunction(() => document.querySelector('iframe') !== null);
      await until(() => blocked.some((text) => /frame-ancestors/.test(text)), 'a frame-ancestors violation');
      // The frame shows the browser's refusal, not credport's page: no script of it ran.
      const frame = page.frames().find((f) => f !== page.mainFrame());
      expect(
        await frame
          ?.locator('body')
          .textContent()
          .catch(() => ''),
      ).not.toContain('credport');
      expect(traffic.urls.filter((url) => url.includes('/api/v1/'))).toEqual([]);
      expect((await sessionAsHostSees(id)).state).toBe('pending');
      await page.close();
    },
    FLOW_MS,
  );

  it(
    'a token offered by a window other than the parent, even of an allowed origin, is ignored: nothing is exchanged',
    async () => {
      const { page, traffic } = await openHost();
      const { token } = (await hostPost('/api/connect-session', { mode: 'create' })).body as { token: string };
      const id = sessionIdOf(token);
      // The host page frames the Connect page itself, and beside it a frame of its own origin (about:blank) offers the token.
      await page.evaluate((url) => {
        const connect = document.createElement('iframe');
        connect.src = url;
        connect.title = 'credport Connect';
        const sibling = document.createElement('iframe');
        sibling.title = 'a sibling frame';
        document.body.append(connect, sibling);
      }, `${served.url}/connect/${id}`);
      const connect = await (await page.locator(`iframe[src^="${served.url}/connect/"]`).elementHandle())!.contentFrame();
      await connect!.waitForLoadState('load');
      const sibling = page.frames().find((f) => f.url() === 'about:blank')!;
      for (let i = 0; i < 5; i += 1) {
        await sibling.evaluate(([message, origin]) => window.parent.frames[0]!.postMessage(message, origin), [
          tokenMessage(token),
          served.url,
        ] as const);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(traffic.urls.filter((url) => url.endsWith('/connect/exchange'))).toEqual([]);
      expect((await sessionAsHostSees(id)).state).toBe('pending');
      // The same offer from the parent itself is taken: so the test would have seen an exchange.
      await page.evaluate(([message, origin]) => document.querySelector('iframe')!.contentWindow!.postMessage(message, origin), [
        tokenMessage(token),
        served.url,
      ] as const);
      await until(async () => (await sessionAsHostSees(id)).state === 'opened', 'the exchange of a token the parent offers');
      await page.close();
    },
    FLOW_MS,
  );

  it(
    'a token offered by another origin is ignored, even by the window that opened the Connect page',
    async () => {
      const { token } = (await hostPost('/api/connect-session', { mode: 'create' })).body as { token: string };
      const id = sessionIdOf(token);
      const page = await browser.context.newPage();
      await page.goto(strangerUrl);
      const opened = page.waitForEvent('popup');
      await page.evaluate((url) => {
        (window as unknown as { connect: Window | null }).connect = window.open(url, 'connect', 'popup');
      }, `${served.url}/connect/${id}`);
      const popup = await opened;
      const popupTraffic: Traffic = { urls: [], answers: [], sessionTokens: [], bearers: [], problems: [] };
      watchTraffic(popup, popupTraffic, true);
      await popup.waitForLoadState('load');
      for (let i = 0; i < 5; i += 1) {
        await page.evaluate(([message, origin]) => (window as unknown as { connect: Window }).connect.postMessage(message, origin), [
          tokenMessage(token),
          served.url,
        ] as const);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(popupTraffic.urls.filter((url) => url.endsWith('/connect/exchange'))).toEqual([]);
      expect((await sessionAsHostSees(id)).state).toBe('pending');
      await popup.close();
      await page.close();
    },
    FLOW_MS,
  );

  it(
    'a revoked session: the Connect page says so and the host receives an error event',
    async () => {
      const { page, traffic } = await openHost();
      // The host's back end revokes the session between minting it and the page handing it over.
      await page.route(`${host.url}/api/connect-session`, async (route) => {
        const response = await route.fetch();
        const { token } = (await response.json()) as { token: string };
        await acme.revokeConnectSession({ path: { id: sessionIdOf(token) } });
        await route.fulfill({ response });
      });
      await page.getByRole('button', { name: 'Connect Front' }).click();
      const line = await waitForLogLine(page, /^.*error: /);
      expect(line).toContain('connect_session_revoked');
      const alert = connectFrame(page).getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).toMatch(/revoked/);
      await expectNoAxeViolations(page, 'connect: a revoked session');
      await screenshot(page, 'connect-embed-6-revoked');
      expect(traffic.bearers).toEqual([]);
      await page.close();
    },
    FLOW_MS,
  );
});

describe('refused by the API, whoever calls it', () => {
  it('a second exchange of one token: 410, and the first bearer is the only one', async () => {
    const { token } = (await hostPost('/api/connect-session', { mode: 'create' })).body as { token: string };
    await exchange(token);
    const again = await rawRequest(served.url, 'POST', '/api/v1/connect/exchange', { body: { token } });
    expect(again.status).toBe(410);
    expect(again.body).toMatchObject({ code: 'connect_token_used' });
    expect(again.text).not.toContain('ccb_');
  });

  it("a session's bearer beyond its mode and workspace: 403 for other routes and for adding in reconnect, 404 for others' credentials", async () => {
    const mine = await endUserCredential('Mine');
    const { token } = (await hostPost('/api/connect-session', { mode: 'create' })).body as { token: string };
    const bearer = await exchange(token);
    const as = (method: string, path: string, body?: unknown) =>
      rawRequest(served.url, method, `/api/v1${path}`, { headers: { authorization: `Bearer ${bearer}` }, body });
    for (const [method, path, body] of [
      ['GET', '/sources'],
      ['GET', '/tokens'],
      ['GET', '/audit'],
      ['GET', `/credentials/${mine.id}`],
      ['DELETE', `/credentials/${mine.id}`],
      ['GET', `/connect/sessions/${sessionIdOf(token)}`],
      ['POST', '/connect/sessions', { endUser: { id: 'someone-else' }, allowedOrigins: [host.url] }],
      ['POST', '/syncs', { source: 'src_0123456789abcdef', destination: 'dst_0123456789abcdef' }],
    ] as [string, string, unknown?][]) {
      const answer = await as(method, path, body);
      expect({ method, path, status: answer.status }).toEqual({ method, path, status: 403 });
    }
    // Another workspace's credential, and one of this workspace its end user did not make: as if they did not exist.
    const other = createCredportClient({ baseUrl: served.url, token: otherWorkspaceToken });
    const theirs = await other.createCredential({ body: { connector: 'front', values: { name: 'Theirs', apiKey: GOOD }, verify: false } });
    const workspaces = await acme.createCredential({
      body: { connector: 'front', values: { name: 'Not the end user', apiKey: GOOD }, verify: false },
    });
    for (const id of [theirs.id, workspaces.id]) {
      expect((await as('POST', `/credentials/${id}/test`)).status).toBe(404);
      expect((await as('POST', `/credentials/${id}/rotate`, { secrets: { apiKey: GOOD } })).status).toBe(404);
    }
    const listed = (await as('GET', '/credentials')).body as unknown as { id: string }[];
    expect(listed.map((tile) => tile.id)).not.toContain(theirs.id);
    expect(listed.map((tile) => tile.id)).not.toContain(workspaces.id);

    // A reconnect session's bearer repairs its credential and adds nothing.
    const reconnect = (await hostPost('/api/connect-session', { mode: 'reconnect', credentialId: mine.id })).body as { token: string };
    const repairer = await exchange(reconnect.token);
    const add = await rawRequest(served.url, 'POST', '/api/v1/credentials', {
      headers: { authorization: `Bearer ${repairer}` },
      body: { connector: 'front', baseUrl: front.url, values: { name: 'Sneaked in', apiKey: GOOD } },
    });
    expect(add.status).toBe(403);
  });

  it("a session asking for more than its creator's role: a viewer's token mints none (403)", async () => {
    const viewer = createCredportClient({ baseUrl: served.url, token: viewerToken });
    const refused = await viewer.createConnectSession({ body: { endUser: { id: 'enduser-1' }, allowedOrigins: [host.url] } }).then(
      () => undefined,
      (error: unknown) => error as { status: number; code: string },
    );
    expect(refused).toMatchObject({ status: 403 });
  });

  it("a base URL outside the operator's policy: refused on /baseUrl before any connection, nothing saved", async () => {
    const { token } = (await hostPost('/api/connect-session', { mode: 'create' })).body as { token: string };
    const bearer = await exchange(token);
    const before = front.requests;
    for (const baseUrl of [
      'http://127.0.0.1:9',
      'https://10.0.0.1',
      'https://169.254.169.254',
      `${front.url.replace('127.0.0.1', 'localhost')}`,
    ]) {
      const answer = await rawRequest(served.url, 'POST', '/api/v1/credentials', {
        headers: { authorization: `Bearer ${bearer}` },
        body: { connector: 'front', baseUrl, values: { name: `Elsewhere ${baseUrl}`, apiKey: GOOD } },
      });
      expect({ baseUrl, status: answer.status, body: answer.body }).toMatchObject({
        baseUrl,
        status: 403,
        body: { code: 'outbound_refused', field: '/baseUrl' },
      });
    }
    expect(front.requests).toBe(before);
    // A public field holding the secret is refused too, on that field: names are shown in the clear.
    const named = await rawRequest(served.url, 'POST', '/api/v1/credentials', {
      headers: { authorization: `Bearer ${bearer}` },
      body: { connector: 'front', baseUrl: front.url, values: { name: `Elsewhere ${GOOD}`, apiKey: GOOD } },
    });
    expect({ status: named.status, field: (named.body as { field?: string }).field }).toEqual({ status: 400, field: '/values/name' });
    expect(named.text).not.toContain(GOOD);
    const tiles = await acme.listCredentials({});
    expect(tiles.filter((tile) => tile.name.startsWith('Elsewhere'))).toEqual([]);
  });
});

describe("the host example's back end keeps its end user's sessions to its own page", () => {
  it('mints only for a POST of its own origin, shows only sessions it minted, and takes only its end user\u2019s tiles', async () => {
    // Another site's page (or a form) cannot mint a session for the signed-in user.
    for (const headers of [{ origin: strangerUrl }, {}] as Record<string, string>[]) {
      const answer = await rawRequest(host.url, 'POST', '/api/connect-session', { body: { mode: 'create' }, headers });
      expect({ headers, status: answer.status }).toEqual({ headers, status: 403 });
    }
    const form = await rawRequest(host.url, 'POST', '/api/connect-session', {
      headers: { origin: host.url, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    // Its sessions allow its own origin, nothing the page could name.
    const { token } = (await hostPost('/api/connect-session', { mode: 'create', allowedOrigins: [strangerUrl] })).body as { token: string };
    expect((await acme.getConnectSession({ path: { id: sessionIdOf(token) } })).allowedOrigins).toEqual([host.url]);
    // A session of the same workspace minted by someone else is not this host page's to read.
    const elses = await acme.createConnectSession({ body: { endUser: { id: 'enduser-2' }, allowedOrigins: [host.url] } });
    expect((await rawRequest(host.url, 'GET', `/api/connect-session/${elses.id}`)).status).toBe(404);
    // A workspace credential its end user did not make: no reconnect session, no source.
    const notTheirs = await acme.createCredential({
      body: { connector: 'front', values: { name: 'Workspace only', apiKey: GOOD }, verify: false },
    });
    for (const [path, body] of [
      ['/api/connect-session', { mode: 'reconnect', credentialId: notTheirs.id }],
      ['/api/sources', { credentialId: notTheirs.id }],
    ] as const) {
      const answer = await rawRequest(host.url, 'POST', path, { body, headers: { origin: host.url } });
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
    }
  });
});

/** The host's answer to hello, as the SDK sends it. */
function tokenMessage(sessionToken: string) {
  return { source: 'credport', version: 1, type: 'token', payload: { sessionToken } };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  for (const started = Date.now(); !(await check()); ) {
    if (Date.now() - started > timeoutMs) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A POST to the host's back end as its own page makes it (same Origin, JSON). */
async function hostPost(path: string, body: unknown) {
  const answer = await rawRequest(host.url, 'POST', path, { body, headers: { origin: host.url } });
  if (answer.status >= 300) throw new Error(`host ${path}: ${answer.status} ${answer.text}`);
  return answer;
}

/** A credential of the host's end user, made through a connect session as the Connect page makes it (its token exchanged, its bearer used). */
async function endUserCredential(name: string, apiKey = GOOD): Promise<{ id: string }> {
  const { token } = (await hostPost('/api/connect-session', { mode: 'create' })).body as { token: string };
  const bearer = await exchange(token);
  const made = await rawRequest(served.url, 'POST', '/api/v1/credentials', {
    headers: { authorization: `Bearer ${bearer}` },
    body: { connector: 'front', baseUrl: front.url, values: { name, apiKey } },
  });
  if (made.status !== 201) throw new Error(`credential ${name}: ${made.status} ${made.text}`);
  return made.body as unknown as { id: string };
}

async function exchange(token: string): Promise<string> {
  const answer = await rawRequest(served.url, 'POST', '/api/v1/connect/exchange', { body: { token } });
  if (answer.status !== 200) throw new Error(`exchange: ${answer.status} ${answer.text}`);
  return (answer.body as unknown as { bearer: string }).bearer;
}

/** Picks a tile in the Connect page's pick screen and confirms it. */
async function pickTile(connect: FrameLocator, name: string): Promise<void> {
  await connect.getByRole('article', { name }).getByRole('radio').check();
  await connect.getByRole('button', { name: 'Use this credential' }).click();
}
