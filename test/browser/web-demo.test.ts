import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Browser, launchChromium, screenshot, watchPage } from '../helpers/browser.js';
import { type Served, startServe } from '../helpers/serve.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

/** `credport serve --demo`: the whole flow with no account anywhere, as a new user walks it. */
let browser: Browser;
let served: Served;
let home: string;

beforeAll(async () => {
  home = await tempHome();
  [served, browser] = await Promise.all([startServe({ home, args: ['--demo'] }), launchChromium()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await removeHome(home);
});

describe('credport serve --demo', () => {
  it('offers the emulators as base URLs with their test values, and walks Front from the overlay to a finished sync', async () => {
    const page = await browser.context.newPage();
    const watch = watchPage(page);
    await page.goto(await served.nextLoginUrl());
    await page.getByText('demo: emulators on loopback').waitFor();
    await page.getByRole('button', { name: 'Front', exact: true }).click();
    await page.getByRole('button', { name: 'Add Credential' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add New Credential' });
    const values = dialog.getByRole('region', { name: 'Demo values' });
    await values.getByText('Front emulator on loopback').waitFor();
    // The Base URL is prefilled with the emulator's loopback origin.
    expect(await dialog.getByLabel('Base URL').inputValue()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await dialog.getByRole('button', { name: 'Fill in the test values' }).click();
    expect(await dialog.getByLabel('Credential Name').inputValue()).toBe('Front demo');
    expect(await dialog.getByLabel('API Key Value').inputValue()).toMatch(/^emu_/);
    await screenshot(page, 'demo-overlay');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    const tile = page.getByRole('article', { name: 'Front demo' });
    await tile.getByText('verified', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Create and run sync' }).click();
    await page.getByRole('status').filter({ hasText: 'Finished' }).waitFor();
    expect(await page.getByRole('progressbar').count()).toBe(6);
    await screenshot(page, 'demo-sync');
    expect(watch.problems).toEqual([]);
    await page.close();
  });
});
