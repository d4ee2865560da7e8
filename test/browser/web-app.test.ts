import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { FronteggEmulator } from '../../src/emulator/frontegg-emulator.js';
import { FrontlineEmulator } from '../../src/emulator/frontline-emulator.js';
import { expectNoAxeViolations } from '../helpers/axe.js';
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
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await Promise.all([front?.stop(), frontline?.stop(), frontegg?.stop()]);
  await removeHome(home);
});

const frontToken = (): [string, string] => [...front.tokens] as [string, string];

/** A new tab signed in as a user does: with the next link credport serve printed (a session is per tab). */
async function openApp(): Promise<{ page: Page; watch: ReturnType<typeof watchPage> }> {
  const page = await browser.context.newPage();
  const watch = watchPage(page);
  await page.goto(await served.nextLoginUrl());
  // The code leaves the address bar at once.
  await page.waitForURL(`${served.url}/`);
  return { page, watch };
}

async function chooseConnector(page: Page, title: string): Promise<void> {
  await page.getByRole('button', { name: title, exact: true }).click();
  await page.getByRole('heading', { name: 'Authenticate' }).waitFor();
  // The Add Credential tile comes with the list: the saved tiles are on the page from here on.
  await page.getByRole('button', { name: 'Add Credential' }).waitFor();
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
    await expectNoAxeViolations(page, 'Authenticate screen');
    await page.getByRole('button', { name: 'Add Credential' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add New Credential' });
    await dialog.waitFor();
    await expectNoAxeViolations(page, 'Add New Credential overlay, open');
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
    await expectNoAxeViolations(page, 'Add New Credential overlay, with field errors');
    // A pattern error reads as the schema's x-pattern-message, not a regular expression.
    await secret.fill('has a space in it');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.waitForFunction("document.querySelector('dialog').textContent.includes('must not contain spaces')");
    expect(posts).toEqual([]);

    await fillOverlay(
      page,
      { 'Credential Name': 'Support', 'Credential Description': 'Support team inbox', 'API Key Value': frontToken()[0] },
      front.url,
    );
    await dialog.waitFor({ state: 'detached' });
    const support = tile(page, 'Support');
    // The new tile is selected, verified, with the company Front reported, the hint and when.
    expect(await support.getByRole('radio').isChecked()).toBe(true);
    await support.getByText('verified', { exact: true }).waitFor();
    await support.getByText(front.company.name).waitFor();
    await support.getByText(`...${frontToken()[0].slice(-4)}`).waitFor();
    await support.getByText('Last verified').waitFor();
    await support.getByText('Support team inbox').waitFor();
    await screenshot(page, '3-front-tile');

    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Create the data source' }).waitFor();
    await page.getByRole('checkbox', { name: 'conversations' }).uncheck();
    await screenshot(page, '4-create-source');
    await page.getByRole('button', { name: 'Create and run sync' }).click();
    await page.getByRole('status').filter({ hasText: 'Finished' }).waitFor();
    for (const stream of ['contacts', 'tags', 'accounts', 'inboxes', 'teammates']) {
      const bar = page.getByRole('progressbar', { name: stream });
      expect(await bar.getAttribute('value')).toBe('1');
      expect(await bar.getAttribute('aria-valuetext')).toMatch(/^\d+ records, \d+ pages?, done$/);
    }
    expect(await page.getByRole('progressbar', { name: 'conversations' }).count()).toBe(0);
    const finished = await page.getByRole('status').filter({ hasText: 'Finished' }).textContent();
    expect(finished).toContain('records');
    // The rate the sync reached, against the limit the provider announced (the emulator's: 100,000 a minute).
    expect(finished).toMatch(/\d+ requests, [\d.]+ a minute: [\d.]+ of the provider's 100000 a minute\./);
    await screenshot(page, '5-sync-finished');
    await expectNoSecretInPage(page, watch, [frontToken()[0]]);
    await page.close();
  });

  it("shows each refusal on its field: a wrong token in Front's words on API Key Value, a bad Base URL on Base URL; nothing saved, the secret field emptied", async () => {
    const { page, watch } = await openApp();
    await chooseConnector(page, 'Front');
    const tilesBefore = await page.getByRole('article').count();
    const wrong = fakeToken('wrong');
    await page.getByRole('button', { name: 'Add Credential' }).click();
    await fillOverlay(page, { 'Credential Name': 'Wrong one', 'API Key Value': wrong }, front.url);
    const dialog = page.getByRole('dialog', { name: 'Add New Credential' });
    const secret = dialog.getByLabel('API Key Value');
    await dialog.getByText('Unauthenticated').waitFor();
    expect(await descriptionOf(secret)).toContain('Invalid or missing API token');
    expect(await secret.inputValue()).toBe('');
    expect(await dialog.getByLabel('Credential Name').inputValue()).toBe('Wrong one');
    await screenshot(page, '6-refused-token');
    await expectNoAxeViolations(page, 'Add New Credential overlay, after the provider refused the key');

    await fillOverlay(page, { 'API Key Value': frontToken()[0] }, 'http://example.com');
    await dialog.getByText('must be https://').waitFor();
    expect(await descriptionOf(dialog.getByLabel('Base URL'))).toContain(
      'base URL (baseUrl) must be https://, or http:// to a loopback address',
    );
    expect(await secret.inputValue()).toBe('');

    // Esc closes the overlay; nothing was saved.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.getByRole('article').count()).toBe(tilesBefore);
    expect(await page.getByRole('article', { name: 'Wrong one' }).count()).toBe(0);
    await expectNoSecretInPage(page, watch, [wrong, frontToken()[0]]);
    await page.close();
  });

  it('Frontline: a USER key shows its key type and email on the tile; a GENERAL key cannot pick the USER-only stream; the USER key syncs it', async () => {
    const { page, watch } = await openApp();
    await chooseConnector(page, 'Frontline');
    const general = frontline.keyOfType('GENERAL');
    const user = frontline.keyOfType('USER');
    await addCredential(page, { 'Credential Name': 'Frontline account', 'API Key': general }, frontline.url);
    await addCredential(
      page,
      { 'Credential Name': 'Frontline personal', 'Credential Description': 'Pat, for my tasks', 'API Key': user },
      frontline.url,
    );
    const personal = tile(page, 'Frontline personal');
    await personal.getByText('USER', { exact: true }).waitFor();
    await personal.getByText('pat@example.com').waitFor();
    await personal.getByText('verified', { exact: true }).waitFor();
    await tile(page, 'Frontline account').getByText('GENERAL', { exact: true }).waitFor();
    await screenshot(page, '3-frontline-tiles');

    await tile(page, 'Frontline account').getByRole('radio').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    const myTasks = page.getByRole('checkbox', { name: 'tasks' });
    expect(await myTasks.isDisabled()).toBe(true);
    expect(await myTasks.isChecked()).toBe(false);
    expect(await descriptionOf(myTasks)).toContain('a USER (personal) API key');
    expect(await page.getByRole('checkbox', { name: 'agents' }).isEnabled()).toBe(true);
    await page.getByRole('button', { name: 'Back' }).click();

    await tile(page, 'Frontline personal').getByRole('radio').check();
    await runSync(page);
    await page.getByRole('status').filter({ hasText: 'Finished' }).waitFor();
    // Frontline's lists answer whole, in one request each; tasks and users only to a USER key.
    for (const stream of ['agents', 'workflows', 'tools', 'ai_models', 'tasks', 'users']) {
      expect(await page.getByRole('progressbar', { name: stream, exact: true }).getAttribute('aria-valuetext')).toBe(
        '150 records, 1 page, done',
      );
    }
    await expectNoSecretInPage(page, watch, [general, user]);
    await page.close();
  });

  it('Frontegg: a Client ID and a Secret Key (region as a select), verified by exchange, then a sync', async () => {
    const { page, watch } = await openApp();
    await chooseConnector(page, 'Frontegg');
    await page.getByRole('button', { name: 'Add Credential' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add New Credential' });
    expect(await dialog.getByRole('combobox', { name: 'Region' }).locator('option:checked').textContent()).toBe('EU');
    expect(await dialog.getByLabel('Secret Key').getAttribute('type')).toBe('password');
    const { clientId, secret } = frontegg.credentials;
    await fillOverlay(page, { 'Credential Name': 'Frontegg tenant', 'Client ID': clientId, 'Secret Key': secret }, frontegg.url);
    await dialog.waitFor({ state: 'detached' });
    const tenant = tile(page, 'Frontegg tenant');
    await tenant.getByText(clientId).waitFor();
    expect(await tenant.getByRole('radio').isChecked()).toBe(true);
    await runSync(page);
    await page.getByRole('status').filter({ hasText: 'Finished' }).waitFor();
    expect(await page.getByRole('progressbar', { name: 'users' }).getAttribute('value')).toBe('1');
    await expectNoSecretInPage(page, watch, [secret]);
    await page.close();
  });

  it('a 401 mid-sync stops the sync with the reason and shows the tile turning invalid', async () => {
    const revoking = await new FrontEmulator({ records: 1000, revokeAfter: 4 }).start();
    try {
      const token = [...revoking.tokens][0]!;
      const { page, watch } = await openApp();
      await chooseConnector(page, 'Front');
      await addCredential(page, { 'Credential Name': 'Revoked soon', 'API Key Value': token }, revoking.url);
      await tile(page, 'Revoked soon').getByText('verified', { exact: true }).waitFor();
      await runSync(page);
      await page.getByRole('alert').filter({ hasText: 'The sync stopped' }).waitFor();
      await tile(page, 'Revoked soon').getByText('invalid', { exact: true }).waitFor();
      await screenshot(page, '7-sync-401');
      await page.getByRole('button', { name: 'Back to credentials' }).click();
      await tile(page, 'Revoked soon').getByText('invalid', { exact: true }).waitFor();
      // When and why, in Front's words, on the tile.
      const refused = tile(page, 'Revoked soon').getByRole('definition').filter({ hasText: 'Front rejected the credential: 401' });
      await refused.waitFor();
      expect(await refused.textContent()).toContain('Invalid or missing API token');
      await expectNoSecretInPage(page, watch, [token]);
      await page.close();
    } finally {
      await revoking.stop();
    }
  });

  it('tile actions: test, rotate (a refused new secret keeps the old one), rename, and delete refused while a source uses it, naming it', async () => {
    const { page, watch } = await openApp();
    await chooseConnector(page, 'Front');
    const [first, second] = frontToken();
    await addCredential(page, { 'Credential Name': 'Ops', 'API Key Value': first }, front.url);
    const ops = tile(page, 'Ops');
    await ops.getByRole('button', { name: 'Test' }).click();
    await ops.getByText('Front accepted it.').waitFor();

    await ops.getByRole('button', { name: 'Rotate' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate Ops' });
    const wrong = fakeToken('rotate');
    await rotate.getByLabel('API Key Value').fill(wrong);
    await rotate.getByRole('button', { name: 'Rotate' }).click();
    await rotate.getByText('Unauthenticated').waitFor();
    expect(await descriptionOf(rotate.getByLabel('API Key Value'))).toContain('Invalid or missing API token');
    expect(await rotate.getByLabel('API Key Value').inputValue()).toBe('');
    await rotate.getByLabel('API Key Value').fill(second);
    await rotate.getByRole('button', { name: 'Rotate' }).click();
    await rotate.waitFor({ state: 'detached' });
    await ops.getByText(`...${second.slice(-4)}`).waitFor();
    await ops.getByText('Rotated: the new secret is in use.').waitFor();

    await ops.getByRole('button', { name: 'Rename' }).click();
    const rename = page.getByRole('dialog', { name: 'Rename Ops' });
    await rename.getByLabel('Credential Name').fill('Ops EU');
    await rename.getByLabel('Credential Description').fill('Operations, EU office');
    await rename.getByRole('button', { name: 'Save' }).click();
    const opsEu = tile(page, 'Ops EU');
    await opsEu.getByText('Operations, EU office').waitFor();

    // A source that uses it, created through the page.
    await opsEu.getByRole('radio').check();
    await runSync(page);
    await page.getByRole('status').filter({ hasText: 'Finished' }).waitFor();
    await page.getByRole('button', { name: 'Back to credentials' }).click();
    await tile(page, 'Ops EU').getByRole('button', { name: 'Delete' }).click();
    const remove = page.getByRole('dialog', { name: 'Delete Ops EU?' });
    await remove.getByRole('button', { name: 'Delete' }).click();
    await remove.getByRole('alert').filter({ hasText: 'Front - Ops EU' }).waitFor();
    await page.keyboard.press('Escape');
    await remove.waitFor({ state: 'detached' });
    await tile(page, 'Ops EU').waitFor();
    await expectNoSecretInPage(page, watch, [first, second, wrong]);
    await page.close();
  });

  it('from the keyboard alone: the overlay is a modal dialog that keeps the focus, every input has a label, Enter saves, Esc closes', async () => {
    const { page, watch } = await openApp();
    await page.getByRole('button', { name: 'Front', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Authenticate' }).waitFor();
    const add = page.getByRole('button', { name: 'Add Credential' });
    await add.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Add New Credential' });
    await dialog.waitFor();
    expect(await dialog.evaluate((el: { matches(selector: string): boolean }) => el.matches(':modal'))).toBe(true);
    // Every input, textarea and select has a label.
    const unlabelled = await dialog.evaluate(
      (el: { querySelectorAll(s: string): ArrayLike<{ id: string; labels: ArrayLike<unknown> | null }> }) =>
        Array.from(el.querySelectorAll('input, textarea, select'))
          .filter((input) => !input.labels || input.labels.length === 0)
          .map((input) => input.id),
    );
    expect(unlabelled).toEqual([]);
    // Tab and Shift+Tab never leave the dialog.
    const inDialog = () =>
      dialog.evaluate((el: { contains(node: unknown): boolean; ownerDocument: { activeElement: unknown } }) =>
        el.contains(el.ownerDocument.activeElement),
      );
    for (let i = 0; i < 14; i++) {
      await page.keyboard.press('Tab');
      expect(await inDialog()).toBe(true);
    }
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Shift+Tab');
      expect(await inDialog()).toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // The focus goes back to the tile that opened it.
    expect(await add.evaluate((el: { ownerDocument: { activeElement: unknown } }) => el.ownerDocument.activeElement === el)).toBe(true);

    await page.keyboard.press('Enter');
    await dialog.waitFor();
    // Credential Name has the focus (ui:autofocus); Tab moves through the form; Enter saves.
    await page.keyboard.type('Keyboard');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Added without a mouse');
    await page.keyboard.press('Tab');
    await page.keyboard.type(frontToken()[0]);
    await dialog.getByText('Advanced').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    await page.keyboard.type(front.url);
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    expect(await tile(page, 'Keyboard').getByRole('radio').isChecked()).toBe(true);
    await expectNoSecretInPage(page, watch, [frontToken()[0]]);
    await page.close();
  });

  it('without a session, the page says to open the link credport serve printed', async () => {
    // A new tab: no session (it is kept per tab).
    const page = await browser.context.newPage();
    await page.goto(`${served.url}/`);
    await page.getByRole('heading', { name: 'Not signed in' }).waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('Open the link credport serve printed');
    // The next link signs the browser in again.
    await page.goto(await served.nextLoginUrl());
    await page.getByRole('heading', { name: 'Choose a data source' }).waitFor();
    await page.close();
  });
});
