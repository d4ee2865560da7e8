import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { FronteggEmulator } from '../../src/emulator/frontegg-emulator.js';
import { FrontlineEmulator } from '../../src/emulator/frontline-emulator.js';
import { type Browser, launchChromium, screenshot, watchPage } from '../helpers/browser.js';
import { type Served, startServe } from '../helpers/serve.js';
import { fakeToken, removeHome, tempHome } from '../helpers/temp-home.js';
import { descriptionOf, expectNoSecretInPage } from './browser-checks.js';

/**
 * The web app of `credport serve`, in Debian's Chromium, against the real CLI (a child process,
 * without --demo) and the three emulators in this process. Elements are found as a person finds
 * them: by their roles and labels.
 */
let browser: Browser;
let served: Served;
let home: string;
let front: FrontEmulator;
let frontline: FrontlineEmulator;
let frontegg: FronteggEmulator;

beforeAll(async () => {
  [front, frontline, frontegg] = await Promise.all([
    new FrontEmulator({ records: 120, tokens: [`emu_${'a'.repeat(20)}first`, `emu_${'b'.repeat(20)}second`] }).start(),
    new FrontlineEmulator({ records: 150 }).start(),
    new FronteggEmulator({}).start(),
  ]);
  home = await tempHome();
  [served, browser] = await Promise.all([startServe({ home }), launchChromium()]);
  // Sign in once, as a user does: the link credport serve printed. The session cookie serves every page after.
  const page = await browser.context.newPage();
  await page.goto(served.loginUrl());
  expect(new URL(page.url()).pathname).toBe('/');
  await page.close();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await Promise.all([front?.stop(), frontline?.stop(), frontegg?.stop()]);
  await removeHome(home);
});

const frontToken = (): [string, string] => [...front.tokens] as [string, string];

async function openApp(): Promise<{ page: Page; watch: ReturnType<typeof watchPage> }> {
  const page = await browser.context.newPage();
  const watch = watchPage(page);
  await page.goto(`${served.url}/`);
  return { page, watch };
}

async function chooseConnector(page: Page, title: string): Promise<void> {
  await page.getByRole('button', { name: title, exact: true }).click();
  await page.getByRole('heading', { name: 'Authenticate' }).waitFor();
}

/** Fills the "Add New Credential" overlay and presses Save. */
async function fillOverlay(page: Page, fields: Record<string, string>, baseUrl?: string): Promise<void> {
  const dialog = page.getByRole('dialog', { name: 'Add New Credential' });
  for (const [label, value] of Object.entries(fields)) await dialog.getByLabel(label, { exact: false }).first().fill(value);
  if (baseUrl !== undefined) {
    if (!(await dialog.getByLabel('Base URL').isVisible())) await dialog.getByText('Advanced').click();
    await dialog.getByLabel('Base URL').fill(baseUrl);
  }
  await dialog.getByRole('button', { name: 'Save' }).click();
}

async function addCredential(page: Page, fields: Record<string, string>, baseUrl: string): Promise<void> {
  await page.getByRole('button', { name: 'Add Credential' }).click();
  await fillOverlay(page, fields, baseUrl);
  await page.getByRole('dialog').waitFor({ state: 'detached' });
}

const tile = (page: Page, name: string) => page.getByRole('article', { name });

async function runSync(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Create the data source' }).waitFor();
  await page.getByRole('button', { name: 'Create and run sync' }).click();
  await page.getByRole('heading', { name: 'Sync' }).waitFor();
}

describe('the web app, without --demo', () => {
  it('Front: connectors, the Add New Credential overlay, the tile, a source and destination, and a sync with one progress bar per stream', async () => {
    const { page, watch } = await openApp();
    await page.getByRole('heading', { name: 'Choose a data source' }).waitFor();
    for (const title of ['Front', 'Frontline', 'Frontegg']) {
      await page.getByRole('button', { name: title, exact: true }).waitFor();
      expect(await page.getByRole('link', { name: `${title} documentation` }).getAttribute('href')).toMatch(/^https:\/\//);
    }
    await screenshot(page, '1-connectors');
    await chooseConnector(page, 'Front');
    await page.getByRole('button', { name: 'Add Credential' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add New Credential' });
    await dialog.waitFor();
    // The connector's form as the API serves it.
    const secret = dialog.getByLabel('API Key Value');
    expect(await secret.getAttribute('type')).toBe('password');
    expect(await secret.getAttribute('autocomplete')).toBe('new-password');
    expect(await descriptionOf(dialog.getByLabel('Credential Description'))).toContain('Recommended');
    await screenshot(page, '2-add-credential-overlay');

    // Save validates in the browser first: nothing is sent with a required field empty.
    const posts: string[] = [];
    page.on('request', (request) => request.method() === 'POST' && posts.push(request.url()));
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByText('is required').first().waitFor();
    expect(await descriptionOf(dialog.getByLabel('Credential Name'))).toContain('is required');
    expect(await descriptionOf(secret)).toContain('is required');
    // A pattern error reads as the schema's x-pattern-message, not a regular expression.
    await secret.fill('has a space in it');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.waitForFunction("document.querySelector('dialog').textContent.includes('must not contain spaces')");
    expect(posts).toEqual([]);

    await fillOverlay(page, { 'Credential Name': 'Support', 'Credential Description': 'Support team inbox', 'API Key Value': frontToken()[0] }, front.url);
    await dialog.waitFor({ state: 'detached' });
    const support = tile(page, 'Support');
    // The new tile is selected, verified, with the company Front reported, the hint and when.
    expect(await support.getByRole('radio').isChecked()).toBe(true);
    await support.getByText('verified', { exact: true }).waitFor();
    await support.getByText(front.company.name).waitFor();
    await support.getByText(`...${frontToken()[0].slice(-4)}`).waitFor();
    await support.getByText('Last verified').waitFor();
    await support.getByText('Support team inbox').waitFor();
    await screenshot(page, '3-credential-tiles');

    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Create the data source' }).waitFor();
    await page.getByRole('checkbox', { name: 'conversations' }).uncheck();
    await screenshot(page, '4-create-source');
    await page.getByRole('button', { name: 'Create and run sync' }).click();
    await page.getByRole('status').filter({ hasText: 'Finished' }).waitFor();
    for (const stream of ['contacts', 'tags', 'accounts', 'inboxes', 'teammates']) {
      const bar = page.getByRole('progressbar', { name: stream });
      expect(await bar.getAttribute('value')).toBe('1');
      expect(await bar.getAttribute('aria-valuetext')).toMatch(/^\d+ records, \d+ pages, done$/);
    }
    expect(await page.getByRole('progressbar', { name: 'conversations' }).count()).toBe(0);
    expect(await page.getByRole('status').filter({ hasText: 'Finished' }).textContent()).toContain('records');
    await screenshot(page, '5-sync-finished');
    await expectNoSecretInPage(page, watch, [frontToken()[0]]);
    await page.close();
  });
});
