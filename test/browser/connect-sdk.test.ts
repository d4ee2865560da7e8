import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AxeBuilder } from '@axe-core/playwright';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Frame, Page } from 'playwright-core';
import type { ConnectEvent } from '../../src/generated/connect-event.js';
import { WCAG_21_AA } from '../helpers/axe.js';
import { type Browser, launchChromium } from '../helpers/browser.js';
import { type SdkSites, startSdkSites } from '../helpers/connect-sdk-fixtures.js';

/**
 * The SDK (dist/sdk/connect.js, as built and served) on a host page at 127.0.0.2 under a strict
 * CSP, opening a fake Connect page on 127.0.0.1 that speaks the protocol and records what reaches
 * it. No credport server: what is shown is the SDK's side of the contract.
 */
let browser: Browser;
let sites: SdkSites;
const pages: Page[] = [];

beforeAll(async () => {
  [browser, sites] = await Promise.all([launchChromium(), startSdkSites()]);
}, 60_000);

afterEach(async () => {
  for (const page of pages.splice(0)) await page.close();
});

afterAll(async () => {
  await browser?.close();
  await sites?.close();
});

/** A session token whose id tells the fake page how to behave (quiet, hop, or anything else: says hello at once). */
function tokenFor(behaviour = 'auto') {
  const tail = `${behaviour}${randomBytes(8).readBigUInt64BE().toString().padStart(20, '0')}`.slice(0, 24);
  return { sessionToken: `ccs_${tail}.${randomBytes(32).toString('base64url')}`, sessionId: `csn_${tail}` };
}

const TILE = {
  id: 'cred_0123456789abcdef',
  connector: 'front',
  name: 'Front for Pam',
  status: 'verified',
  endUserId: 'user-42',
  revision: 0,
  createdAt: '2026-12-07T10:00:00.000Z',
  updatedAt: '2026-12-07T10:00:00.000Z',
};

async function hostPage(session: { sessionToken: string }, appearance?: object): Promise<Page> {
  const page = await browser.context.newPage();
  pages.push(page);
  await page.goto(`${sites.hostOrigin}/`);
  await page.waitForFunction(() => 'host' in window);
  await page.evaluate(
    ([serverUrl, sessionToken, appearance]) => {
      (window as unknown as { host: { session: object } }).host.session = { serverUrl, sessionToken, appearance };
    },
    [sites.connectOrigin, session.sessionToken, appearance] as const,
  );
  return page;
}

const events = (page: Page) => page.evaluate('window.host.events') as Promise<ConnectEvent[]>;
const violations = (page: Page) => page.evaluate('window.host.violations') as Promise<string[]>;
const activeElement = (page: Page) =>
  page.evaluate(() => {
    const active = document.activeElement;
    return active ? `${active.tagName.toLowerCase()}:${active.textContent?.trim() ?? ''}` : '';
  });
const received = (frame: Frame) =>
  frame.evaluate('window.received') as Promise<{ origin: string; fromHost: boolean; data: Record<string, unknown> }[]>;

/** The fake Connect page in a page or popup, once its script runs. */
async function connectFrame(page: Page, sessionId: string): Promise<Frame> {
  for (let i = 0; i < 100; i++) {
    const frame = page.frames().find((f) => f.url() === `${sites.connectOrigin}/connect/${sessionId}`);
    if (frame && (await frame.evaluate('Array.isArray(window.received)').catch(() => false))) return frame;
    await sleep(50);
  }
  throw new Error(`no Connect frame for ${sessionId}`);
}

async function eventsUntil(page: Page, count: number): Promise<ConnectEvent[]> {
  await page.waitForFunction((n) => (window as unknown as { host: { events: unknown[] } }).host.events.length >= n, count);
  return events(page);
}

const wire = (type: string, payload: unknown) => ({ source: 'credport', version: 1, type, payload });

describe('the token', () => {
  it('reaches the Connect page only after its hello, by postMessage, from the host to the page alone; never in a URL', async () => {
    const session = tokenFor('quiet');
    const page = await hostPage(session, { colorScheme: 'dark', accent: '#0a7cff' });
    await page.getByRole('button', { name: 'Add a credential', exact: true }).click();
    const frame = await connectFrame(page, session.sessionId);
    // What the page says before it has asked for the token is not heard either.
    await frame.evaluate(
      (tile) => (window as unknown as { send: (t: string, p: unknown) => void }).send('credential.created', { tile }),
      TILE,
    );
    await sleep(300);
    expect(await received(frame)).toEqual([]);
    expect(await events(page)).toEqual([]);

    await frame.evaluate('hello()');
    await frame.waitForFunction('window.received.length > 0');
    expect(await received(frame)).toEqual([
      {
        origin: sites.hostOrigin,
        fromHost: true,
        data: wire('token', { sessionToken: session.sessionToken, appearance: { colorScheme: 'dark', accent: '#0a7cff' } }),
      },
    ]);
    expect(await eventsUntil(page, 1)).toEqual([{ type: 'ready', payload: { sessionId: session.sessionId, mode: 'create' } }]);
    // A page that said hello late (here 0.3 s after it loaded) is not reported as never started, later on either.
    await sleep(5500);
    expect((await events(page)).map((e) => e.type)).toEqual(['ready']);
    // In no URL: not the frame's, not the host page's.
    expect(page.frames().map((f) => f.url())).toEqual([`${sites.hostOrigin}/`, `${sites.connectOrigin}/connect/${session.sessionId}`]);
    expect(await violations(page)).toEqual([]);
  });

  it('is handed once: a second hello (the page loaded again) gets no token but an error, and Connect closes', async () => {
    const session = tokenFor();
    const page = await hostPage(session);
    await page.getByRole('button', { name: 'Add a credential', exact: true }).click();
    const frame = await connectFrame(page, session.sessionId);
    await eventsUntil(page, 1);
    await frame.evaluate('hello()');
    expect(await eventsUntil(page, 3)).toEqual([
      { type: 'ready', payload: { sessionId: session.sessionId, mode: 'create' } },
      { type: 'error', payload: { code: 'connect_repeated_hello', status: 0, detail: expect.stringContaining('new session') } },
      { type: 'close', payload: { reason: 'error' } },
    ]);
    expect(await received(frame).catch(() => 'frame gone')).toBe('frame gone');
    expect(await page.getByRole('dialog').count()).toBe(0);
  });

  it('goes to credport’s origin exactly: a frame that left for another origin after its hello gets nothing', async () => {
    const session = tokenFor('hop');
    const page = await hostPage(session);
    // The host's own listener stalls on the hello while the frame navigates: when the SDK answers, the
    // frame holds another origin's page. Posted with "*", the token would be that page's.
    await page.evaluate('window.host.stallOnHelloMs = 1500');
    await page.getByRole('button', { name: 'Add a credential', exact: true }).click();
    let thief: Frame | undefined;
    for (let i = 0; i < 100 && !thief; i++) {
      thief = page.frames().find((f) => f.url() === `${sites.thiefOrigin}/thief`);
      await sleep(50);
    }
    await thief!.waitForFunction('Array.isArray(window.stolen)');
    await sleep(2000);
    expect(await thief!.evaluate('window.stolen')).toEqual([]);
    // And what that origin posts (a forged credential.created, to "*") never reaches onEvent.
    expect(await events(page)).toEqual([]);
    // The SDK did answer that hello (so the test is not empty): back on credport's page, a new hello
    // is told the token was handed already.
    await page.evaluate('window.host.stallOnHelloMs = 0');
    await thief!
      .evaluate((url) => {
        location.href = url;
      }, `${sites.connectOrigin}/connect/${session.sessionId}`)
      .catch(() => 'navigated away');
    expect(await eventsUntil(page, 2)).toEqual([
      { type: 'error', payload: { code: 'connect_repeated_hello', status: 0, detail: expect.any(String) } },
      { type: 'close', payload: { reason: 'error' } },
    ]);
  });
});

describe('a Connect page that never starts', () => {
  it('(this host is not among the session’s allowedOrigins, so the frame is blocked) is reported as an error, then Connect closes', async () => {
    const session = tokenFor('elsewhere');
    const page = await hostPage(session);
    await page.getByRole('button', { name: 'Add a credential', exact: true }).click();
    await page.getByRole('dialog', { name: 'credport Connect' }).waitFor();
    await sleep(1000);
    expect(await events(page)).toEqual([]);
    expect(await eventsUntil(page, 2)).toEqual([
      {
        type: 'error',
        payload: {
          code: 'connect_page_unavailable',
          status: 0,
          detail: expect.stringContaining(`${sites.hostOrigin} is one of the session's allowedOrigins`),
        },
      },
      { type: 'close', payload: { reason: 'error' } },
    ]);
    expect(await page.getByRole('dialog').count()).toBe(0);
  });
});

describe('messages the SDK ignores', () => {
  it('from the host page itself, from another frame of credport’s origin, or from its own frame without the envelope', async () => {
    const session = tokenFor();
    const page = await hostPage(session);
    await page.getByRole('button', { name: 'Add a credential', exact: true }).click();
    const frame = await connectFrame(page, session.sessionId);
    await eventsUntil(page, 1);

    // The host page (any script on it) posting a credport-shaped event to itself.
    await page.evaluate(
      (message) => window.postMessage(message, '*'),
      wire('credential.created', { tile: { ...TILE, id: 'cred_forged1' } }),
    );
    // Another frame of credport's origin, not the SDK's: it says hello and sends an event.
    const other = tokenFor();
    await page.evaluate((src) => {
      const iframe = document.createElement('iframe');
      iframe.src = src;
      iframe.title = 'Another frame';
      document.body.append(iframe);
    }, `${sites.connectOrigin}/connect/${other.sessionId}`);
    const otherFrame = await connectFrame(page, other.sessionId);
    await otherFrame.evaluate(
      (tile) => (window as unknown as { send: (t: string, p: unknown) => void }).send('credential.created', { tile }),
      {
        ...TILE,
        id: 'cred_forged2',
      },
    );
    // Its own frame, without source "credport" or version 1, or with a hello for another session.
    await frame.evaluate((tile) => {
      const send = (window as unknown as { send: (t: string, p: unknown, c?: object) => void }).send;
      send('credential.created', { tile: { ...tile, id: 'cred_forged3' } }, { source: 'other' });
      send('credential.created', { tile: { ...tile, id: 'cred_forged4' } }, { version: 2 });
      send('hello', { sessionId: 'csn_someothersession00' });
    }, TILE);
    await sleep(500);
    expect(await events(page)).toEqual([{ type: 'ready', payload: { sessionId: session.sessionId, mode: 'create' } }]);
    expect(await received(otherFrame)).toEqual([]);
    expect((await received(frame)).map((m) => m.data.type)).toEqual(['token']);
  });
});

describe('the modal', () => {
  it('hands the page’s events to onEvent in order, and closes when the page says completed, focus back on the host’s button', async () => {
    const session = tokenFor();
    const page = await hostPage(session);
    const pageScroll = () => page.evaluate(() => getComputedStyle(document.documentElement).overflow);
    expect(await pageScroll()).toBe('visible');
    await page.getByRole('button', { name: 'Add a credential', exact: true }).click();
    const frame = await connectFrame(page, session.sessionId);
    await eventsUntil(page, 1);
    // The host's page does not scroll behind the modal (and does again after it).
    expect(await pageScroll()).toBe('hidden');
    await frame.evaluate((tile) => {
      const send = (window as unknown as { send: (t: string, p: unknown) => void }).send;
      send('credential.created', { tile });
      send('close', { reason: 'completed' });
    }, TILE);
    expect(await eventsUntil(page, 3)).toEqual([
      { type: 'ready', payload: { sessionId: session.sessionId, mode: 'create' } },
      { type: 'credential.created', payload: { tile: TILE } },
      { type: 'close', payload: { reason: 'completed' } },
    ]);
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(await page.locator('iframe').count()).toBe(0);
    expect(await activeElement(page)).toBe('button:Add a credential');
    expect(await pageScroll()).toBe('visible');
    expect(await page.getByRole('list', { name: 'Events' }).getByRole('listitem').allTextContents()).toEqual([
      'ready',
      'credential.created',
      'close',
    ]);
  });

  it('is a labelled dialog with focus in the frame, Tab kept inside it, Escape closes, and focus returns', async () => {
    const session = tokenFor();
    const page = await hostPage(session);
    const opener = page.getByRole('button', { name: 'Add a credential', exact: true });
    await opener.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'credport Connect' });
    await dialog.waitFor();
    expect(await dialog.getAttribute('aria-modal')).toBe('true');
    const frame = await connectFrame(page, session.sessionId);
    await eventsUntil(page, 1);
    expect(await activeElement(page)).toBe('iframe:');
    await frame.waitForFunction('document.hasFocus()');

    // Through the page's controls and out of its last one: to the dialog's first control, not the host page.
    await page.keyboard.press('Tab');
    expect(await frame.evaluate('document.activeElement.id')).toBe('name');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await frame.evaluate('document.activeElement.id')).toBe('cancel');
    await page.keyboard.press('Tab');
    expect(await activeElement(page)).toBe('button:Close');
    // Backwards from the first: round to the frame.
    await page.keyboard.press('Shift+Tab');
    expect(await activeElement(page)).toBe('iframe:');
    await page.keyboard.press('Tab');
    expect(await frame.evaluate('document.activeElement.id')).toBe('name');

    // Focus sent behind the modal by a script of the host's page comes back into the dialog.
    await page.evaluate(() => document.getElementById('open-inline')?.focus());
    expect(await activeElement(page)).toBe('button:Close');
    await page.keyboard.press('Escape');
    expect(await eventsUntil(page, 2)).toEqual([
      { type: 'ready', payload: { sessionId: session.sessionId, mode: 'create' } },
      { type: 'close', payload: { reason: 'cancelled' } },
    ]);
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(await activeElement(page)).toBe('button:Add a credential');
    expect(await violations(page)).toEqual([]);
  });

  it('closes as cancelled from its Close button and from the page’s Cancel', async () => {
    for (const how of ['Close button', 'page Cancel']) {
      const session = tokenFor();
      const page = await hostPage(session);
      await page.getByRole('button', { name: 'Add a credential', exact: true }).click();
      await connectFrame(page, session.sessionId);
      await eventsUntil(page, 1);
      if (how === 'Close button') await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
      else await page.frameLocator('iframe').getByRole('button', { name: 'Cancel' }).click();
      expect((await eventsUntil(page, 2))[1]).toEqual({ type: 'close', payload: { reason: 'cancelled' } });
      expect(await page.getByRole('dialog').count()).toBe(0);
    }
  });

  it('fills the screen under 600 px wide, and sits inside it above', async () => {
    const session = tokenFor();
    const page = await hostPage(session);
    await page.getByRole('button', { name: 'Add a credential', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'credport Connect' });
    await dialog.waitFor();
    expect(await dialog.boundingBox()).toEqual({ x: expect.any(Number), y: expect.any(Number), width: 560, height: 760 });
    await page.setViewportSize({ width: 390, height: 700 });
    await page.waitForFunction(() => document.querySelector('[role=dialog]')?.getBoundingClientRect().width === 390);
    expect(await dialog.boundingBox()).toEqual({ x: 0, y: 0, width: 390, height: 700 });
    expect(await violations(page)).toEqual([]);
  });

  it('close() from the host removes it and emits close {reason: "host"} once, however often it is called', async () => {
    const session = tokenFor();
    const page = await hostPage(session);
    await page.getByRole('button', { name: 'Add a credential', exact: true }).click();
    const frame = await connectFrame(page, session.sessionId);
    await eventsUntil(page, 1);
    await page.evaluate('window.host.handle.close(); window.host.handle.close()');
    expect(await events(page)).toEqual([
      { type: 'ready', payload: { sessionId: session.sessionId, mode: 'create' } },
      { type: 'close', payload: { reason: 'host' } },
    ]);
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(await received(frame).catch(() => 'frame gone')).toBe('frame gone');
  });
});

describe('the modal for everyone', () => {
  it('has no WCAG 2.1 A/AA violation of its own (the dialog, its Close button, the titled frame)', async () => {
    const session = tokenFor();
    const page = await hostPage(session);
    await page.getByRole('button', { name: 'Add a credential', exact: true }).click();
    await connectFrame(page, session.sessionId);
    await eventsUntil(page, 1);
    // The Connect page inside is credport's own (test/helpers/axe.ts runs on it); here, only what the SDK adds.
    const results = await new AxeBuilder({ page }).include('[role="dialog"]').options({ iframes: false }).withTags(WCAG_21_AA).analyze();
    expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    expect(results.passes.map((v) => v.id)).toEqual(
      expect.arrayContaining(['aria-required-attr', 'button-name', 'color-contrast', 'frame-title']),
    );
  });
});

describe('a host’s handler that throws', () => {
  it('does not stop the SDK: after an error it threw on, Connect still closes', async () => {
    const session = tokenFor();
    const page = await hostPage(session);
    await page.evaluate(() => {
      const host = (window as unknown as { host: { open(extra: object): void; events: unknown[] } }).host;
      host.open({
        onEvent: (event: { type: string }) => {
          host.events.push(event);
          throw new Error(`the host's handler failed on ${event.type}`);
        },
      });
    });
    const frame = await connectFrame(page, session.sessionId);
    await eventsUntil(page, 1);
    // The SDK's own error (a second hello) is followed by its close even though the handler threw on it.
    await frame.evaluate('hello()');
    expect((await eventsUntil(page, 3)).map((e) => e.type)).toEqual(['ready', 'error', 'close']);
    expect(await page.getByRole('dialog').count()).toBe(0);
  });
});

describe('a second modal', () => {
  it('closes the first (its onEvent gets close {reason: "host"}): one dialog, one focus trap', async () => {
    const first = tokenFor();
    const page = await hostPage(first);
    await page.evaluate(() => {
      const host = (window as unknown as { host: { open(extra: object): void; firstEvents: unknown[] } }).host;
      host.firstEvents = [];
      host.open({ onEvent: (event: unknown) => host.firstEvents.push(event) });
    });
    await connectFrame(page, first.sessionId);
    await page.waitForFunction(() => (window as unknown as { host: { firstEvents: unknown[] } }).host.firstEvents.length === 1);
    const second = tokenFor();
    await page.evaluate((sessionToken) => {
      const host = (window as unknown as { host: { session: object; open(extra: object): void } }).host;
      host.open({ sessionToken });
    }, second.sessionToken);
    await connectFrame(page, second.sessionId);
    expect(await eventsUntil(page, 1)).toEqual([{ type: 'ready', payload: { sessionId: second.sessionId, mode: 'create' } }]);
    expect(await page.evaluate('window.host.firstEvents')).toEqual([
      { type: 'ready', payload: { sessionId: first.sessionId, mode: 'create' } },
      { type: 'close', payload: { reason: 'host' } },
    ]);
    expect(await page.getByRole('dialog').count()).toBe(1);
    expect(await page.locator('iframe').getAttribute('src')).toBe(`${sites.connectOrigin}/connect/${second.sessionId}`);
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).focus();
    expect(await activeElement(page)).toBe('button:Close');
  });
});

describe('inline', () => {
  it('renders in the host’s element: no dialog, focus left where it was, events and close as in the modal', async () => {
    const session = tokenFor();
    const page = await hostPage(session);
    await page.getByRole('button', { name: 'Show Connect inline' }).click();
    const region = page.getByRole('region', { name: 'Connect inline' });
    await region.locator('iframe').waitFor();
    const frame = await connectFrame(page, session.sessionId);
    await eventsUntil(page, 1);
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(await activeElement(page)).toBe('button:Show Connect inline');
    expect((await received(frame)).map((m) => [m.origin, m.data.type])).toEqual([[sites.hostOrigin, 'token']]);
    await frame.evaluate(
      (tile) => (window as unknown as { send: (t: string, p: unknown) => void }).send('credential.selected', { tile }),
      TILE,
    );
    await page.frameLocator('iframe').getByRole('button', { name: 'Cancel' }).click();
    expect(await eventsUntil(page, 3)).toEqual([
      { type: 'ready', payload: { sessionId: session.sessionId, mode: 'create' } },
      { type: 'credential.selected', payload: { tile: TILE } },
      { type: 'close', payload: { reason: 'cancelled' } },
    ]);
    expect(await region.locator('iframe').count()).toBe(0);
    expect(await violations(page)).toEqual([]);
  });
});

describe('the popup', () => {
  async function openPopup() {
    const session = tokenFor();
    const page = await hostPage(session);
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      page.getByRole('button', { name: 'Add a credential in a popup' }).click(),
    ]);
    pages.push(popup);
    const frame = await connectFrame(popup, session.sessionId);
    await eventsUntil(page, 1);
    return { session, page, popup, frame };
  }

  it('talks to the page through window.opener, and emits popup-closed when the end user closes it', async () => {
    const { session, page, popup, frame } = await openPopup();
    expect(popup.url()).toBe(`${sites.connectOrigin}/connect/${session.sessionId}`);
    expect(await received(frame)).toEqual([
      { origin: sites.hostOrigin, fromHost: true, data: wire('token', { sessionToken: session.sessionToken }) },
    ]);
    await frame.evaluate(
      (tile) => (window as unknown as { send: (t: string, p: unknown) => void }).send('credential.reconnected', { tile }),
      TILE,
    );
    await eventsUntil(page, 2);
    await popup.close();
    expect(await eventsUntil(page, 3)).toEqual([
      { type: 'ready', payload: { sessionId: session.sessionId, mode: 'create' } },
      { type: 'credential.reconnected', payload: { tile: TILE } },
      { type: 'close', payload: { reason: 'popup-closed' } },
    ]);
  });

  it('blocked by the browser: an error popup_blocked, then close, and nothing left open', async () => {
    const session = tokenFor();
    const page = await hostPage(session);
    await page.evaluate(() => {
      window.open = () => null;
    });
    await page.getByRole('button', { name: 'Add a credential in a popup' }).click();
    expect(await eventsUntil(page, 2)).toEqual([
      { type: 'error', payload: { code: 'popup_blocked', status: 0, detail: expect.stringContaining('click') } },
      { type: 'close', payload: { reason: 'error' } },
    ]);
  });

  it('is closed by the SDK when the page completes, and by close()', async () => {
    const first = await openPopup();
    const closed = first.popup.waitForEvent('close');
    await first.frame.evaluate(() =>
      (window as unknown as { send: (t: string, p: unknown) => void }).send('close', { reason: 'completed' }),
    );
    await closed;
    expect((await eventsUntil(first.page, 2))[1]).toEqual({ type: 'close', payload: { reason: 'completed' } });

    const second = await openPopup();
    const closedByHost = second.popup.waitForEvent('close');
    await second.page.evaluate('window.host.handle.close()');
    await closedByHost;
    await sleep(600);
    expect((await events(second.page)).slice(1)).toEqual([{ type: 'close', payload: { reason: 'host' } }]);
  });
});
