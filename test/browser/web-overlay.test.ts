import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Locator, Page } from 'playwright-core';
import { stop as stopEsbuild, transform } from 'esbuild';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { expectNoAxeViolations } from '../helpers/axe.js';
import { type Browser, launchChromium, screenshot, watchPage } from '../helpers/browser.js';
import { type Served, startServe } from '../helpers/serve.js';
import { fakeToken, removeHome, tempHome } from '../helpers/temp-home.js';
import { descriptionOf, expectNoSecretInPage } from './browser-checks.js';

/**
 * The Add New Credential overlay and the tiles as every end user of a host sees them: Save and
 * Cancel in view at any size, the provider's refusal announced on its field, the focus never
 * dropped to the page body, and the host's appearance applied under the page's CSP with enough
 * contrast in both schemes. Against the real `credport serve` (from dist/) and Front's emulator.
 */
let browser: Browser;
let served: Served;
let home: string;
let front: FrontEmulator;
const TOKEN = `emu_${'c'.repeat(20)}overlay`;

beforeAll(async () => {
  front = await new FrontEmulator({ records: 5, tokens: [TOKEN] }).start();
  home = await tempHome();
  [served, browser] = await Promise.all([startServe({ home }), launchChromium()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await front?.stop();
  await removeHome(home);
});

async function openFront(): Promise<{ page: Page; watch: ReturnType<typeof watchPage> }> {
  const page = await browser.context.newPage();
  const watch = watchPage(page);
  await page.goto(await served.nextLoginUrl());
  await page.waitForURL(`${served.url}/`);
  await page.getByRole('button', { name: 'Front', exact: true }).click();
  await page.getByRole('heading', { name: 'Authenticate' }).waitFor();
  await page.getByRole('button', { name: 'Add Credential' }).waitFor();
  return { page, watch };
}

async function openOverlay(page: Page): Promise<Locator> {
  await page.getByRole('button', { name: 'Add Credential' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add New Credential' });
  await dialog.waitFor();
  return dialog;
}

async function addFront(page: Page, name: string): Promise<void> {
  const dialog = await openOverlay(page);
  await dialog.getByLabel('Credential Name').fill(name);
  await dialog.getByLabel('API Key Value').fill(TOKEN);
  if (!(await dialog.getByLabel('Base URL').isVisible())) await dialog.getByText('Advanced').click();
  await dialog.getByLabel('Base URL').fill(front.url);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
}

/** The focused element, as a person would name it: its role-ish tag and its label or text. Never the body. */
async function focused(page: Page): Promise<string> {
  return (await page.evaluate(`(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'the page body';
    const label = el.labels?.[0]?.textContent ?? el.getAttribute('aria-label') ?? el.textContent ?? '';
    return el.tagName.toLowerCase() + ': ' + label.trim();
  })()`)) as string;
}

/** Whether `button` is entirely inside the viewport, on top (not covered), with the page itself not scrolled. */
async function inView(page: Page, button: Locator): Promise<{ inside: boolean; onTop: boolean; pageScrolled: boolean }> {
  const box = await button.boundingBox();
  const viewport = page.viewportSize()!;
  const inside = !!box && box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height;
  const onTop = await button.evaluate(
    (el: { getBoundingClientRect(): DOMRectLike; ownerDocument: HitTest; contains(n: unknown): boolean }) => {
      const r = el.getBoundingClientRect();
      return el.contains(el.ownerDocument.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2));
    },
  );
  const pageScrolled = (await page.evaluate('window.scrollY !== 0 || document.documentElement.scrollTop !== 0')) as boolean;
  return { inside, onTop, pageScrolled };
}
interface DOMRectLike {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface HitTest {
  elementFromPoint(x: number, y: number): unknown;
}

describe('the Add New Credential overlay and the tiles, product-grade', () => {
  it('keeps Save and Cancel in view, without scrolling the page, at 1280x720 and at 360 px wide with a long description', async () => {
    const { page, watch } = await openFront();
    const long = Array.from({ length: 40 }, (_, i) => `Line ${i + 1}: who owns this credential and what it is for.`).join('\n');
    for (const viewport of [
      { width: 1280, height: 720 },
      { width: 360, height: 640 },
    ]) {
      await page.setViewportSize(viewport);
      const dialog = await openOverlay(page);
      await dialog.getByText('Advanced').click();
      await dialog.getByLabel('Credential Description').fill(long);
      // The form is taller than the dialog: its body scrolls.
      expect(await dialog.evaluate((el: { scrollHeight: number; clientHeight: number }) => el.scrollHeight > el.clientHeight)).toBe(true);
      for (const name of ['Save', 'Cancel'])
        expect({ viewport, name, ...(await inView(page, dialog.getByRole('button', { name }))) }).toEqual({
          viewport,
          name,
          inside: true,
          onTop: true,
          pageScrolled: false,
        });
      // Still in view with the focus deep in the form (the dialog scrolled to the field).
      await dialog.getByLabel('Base URL').focus();
      expect(await inView(page, dialog.getByRole('button', { name: 'Save' }))).toEqual({ inside: true, onTop: true, pageScrolled: false });
      await screenshot(page, `overlay-long-description-${viewport.width}`);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
    }
    expect(watch.problems).toEqual([]);
    await page.close();
  });

  it("announces the provider's refusal in a polite live region, marks the secret's field invalid and describes it, and moves the focus there", async () => {
    const { page, watch } = await openFront();
    const dialog = await openOverlay(page);
    const wrong = fakeToken('wrong');
    await dialog.getByLabel('Credential Name').fill('Refused');
    await dialog.getByLabel('API Key Value').fill(wrong);
    await dialog.getByText('Advanced').click();
    await dialog.getByLabel('Base URL').fill(front.url);
    const secret = dialog.getByLabel('API Key Value');
    expect(await secret.getAttribute('aria-invalid')).toBeNull();
    await dialog.getByRole('button', { name: 'Save' }).click();
    // Front's words, inside a role=status region (polite), which was on the page before the refusal came.
    const announced = dialog.getByRole('status').filter({ hasText: 'Invalid or missing API token' });
    await announced.waitFor();
    expect(await announced.getAttribute('aria-live')).not.toBe('assertive');
    expect(await secret.getAttribute('aria-invalid')).toBe('true');
    expect(await descriptionOf(secret)).toContain('Invalid or missing API token');
    // Words for a person: no request line (GET /me) in what the field says.
    expect(await descriptionOf(secret)).not.toContain('GET /');
    expect(await focused(page)).toBe('input: API Key Value*');
    // Typing a new key clears the error and its mark.
    await secret.fill(TOKEN);
    expect(await secret.getAttribute('aria-invalid')).toBeNull();

    // A refused Base URL: focus on that field, marked and described the same way.
    await dialog.getByLabel('Base URL').fill('http://example.com');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByRole('status').filter({ hasText: 'must be https://' }).waitFor();
    expect(await dialog.getByLabel('Base URL').getAttribute('aria-invalid')).toBe('true');
    expect(await focused(page)).toBe('input: Base URL');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await expectNoSecretInPage(page, watch, [wrong, TOKEN]);
    await page.close();
  });

  it('never drops the focus to the page body: after Test, after closing a dialog, after Delete (to the next tile, then Add Credential)', async () => {
    const { page, watch } = await openFront();
    await addFront(page, 'First');
    await addFront(page, 'Second');
    const first = page.getByRole('article', { name: 'First' });
    const second = page.getByRole('article', { name: 'Second' });

    await first.getByRole('button', { name: 'Test' }).click();
    await first.getByText('Front accepted it.').waitFor();
    expect(await focused(page)).toBe('button: Test');

    // A dialog closed (Cancel, or Esc) gives the focus back to the control that opened it.
    await first.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('dialog', { name: 'Rename First' }).getByRole('button', { name: 'Cancel' }).click();
    expect(await focused(page)).toBe('button: Rename');
    await first.getByRole('button', { name: 'Rotate' }).click();
    await page.getByRole('dialog', { name: 'Rotate First' }).waitFor();
    await page.keyboard.press('Escape');
    expect(await focused(page)).toBe('button: Rotate');

    // Deleting a tile: the focus goes to the next tile (its radio), and after the last one to Add Credential.
    await first.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog', { name: 'Delete First?' }).getByRole('button', { name: 'Delete' }).click();
    await first.waitFor({ state: 'detached' });
    expect(await focused(page)).toBe('input: Second');
    await second.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog', { name: 'Delete Second?' }).getByRole('button', { name: 'Delete' }).click();
    await second.waitFor({ state: 'detached' });
    expect(await focused(page)).toBe('button: + Add Credential');
    await expectNoSecretInPage(page, watch, [TOKEN]);
    await page.close();
  });
});

describe('the Base URL field', () => {
  it('is not offered when the server says this caller may not point a credential elsewhere (baseUrlField: false)', async () => {
    const { page } = await openFront();
    const shown = async () => {
      const dialog = await openOverlay(page);
      const count = (await dialog.getByText('Advanced').count()) + (await dialog.getByLabel('Base URL').count());
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      return count > 0;
    };
    expect(await shown()).toBe(true);
    // The form as a Connect session's end user would get it where the operator allows no other origin.
    await page.route('**/api/v1/connectors/front/form', async (route) => {
      const answer = await route.fetch();
      await route.fulfill({ response: answer, json: { ...(await answer.json()), baseUrlField: false } });
    });
    await page.reload();
    await page.getByRole('button', { name: 'Front', exact: true }).click();
    await page.getByRole('button', { name: 'Add Credential' }).waitFor();
    expect(await shown()).toBe(false);
    await page.close();
  });
});

describe("the host's appearance (web/src/appearance.ts, as the Connect page applies it)", () => {
  /** The module as the page would run it, evaluated through the DevTools protocol (the page's own scripts stay as built). */
  let appearanceModule: string;
  beforeAll(async () => {
    const source = await readFile(new URL('../../web/src/appearance.ts', import.meta.url), 'utf8');
    appearanceModule = (await transform(source, { loader: 'ts', format: 'iife', globalName: 'credportAppearance' })).code;
    // esbuild's service is a child process: with one jest worker (two cores) tests run in jest's own
    // process, which would never exit while it lives.
    await stopEsbuild();
  });

  async function apply(page: Page, appearance: unknown): Promise<void> {
    await page.evaluate(`${appearanceModule}; credportAppearance.applyAppearance(${JSON.stringify(appearance)})`);
  }

  async function watchCsp(page: Page): Promise<() => Promise<string[]>> {
    await page.evaluate(`(() => {
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (event) => window.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI));
    })()`);
    return async () => (await page.evaluate('window.cspViolations')) as string[];
  }

  const computed = (page: Page, selector: string, property: string) =>
    page.evaluate(`getComputedStyle(document.querySelector(${JSON.stringify(selector)})).getPropertyValue(${JSON.stringify(property)})`);

  it('dark with an accent: applied through CSSOM with no CSP violation, readable (axe) on the tiles, the overlay and its errors', async () => {
    const { page, watch } = await openFront();
    await addFront(page, 'Dark tile');
    const violations = await watchCsp(page);
    await apply(page, { colorScheme: 'dark', accent: '#ffcc00' });
    expect(await page.evaluate('document.documentElement.dataset.colorScheme')).toBe('dark');
    // No style attribute in the markup: the values live in <html>'s CSSOM style only.
    expect(await page.evaluate('document.querySelectorAll("body [style]").length')).toBe(0);
    expect(await computed(page, 'html', 'background-color')).toBe('rgb(18, 21, 28)');
    expect(await computed(page, 'html', '--cp-focus')).toBe('#ffcc00');
    await expectNoAxeViolations(page, 'Authenticate screen, dark, yellow accent');
    const dialog = await openOverlay(page);
    // The accent fills Save, with the text colour that reads on it (black on yellow).
    expect(await computed(page, 'dialog button[type="submit"]', 'background-color')).toBe('rgb(255, 204, 0)');
    expect(await computed(page, 'dialog button[type="submit"]', 'color')).toBe('rgb(0, 0, 0)');
    await expectNoAxeViolations(page, 'Add New Credential overlay, dark');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByText('is required').first().waitFor();
    await expectNoAxeViolations(page, 'Add New Credential overlay with field errors, dark');
    await screenshot(page, 'overlay-dark');
    expect(await violations()).toEqual([]);
    expect(watch.problems).toEqual([]);
    await page.close();
  });

  it('"system" follows the device: dark when it prefers dark, light otherwise; an invalid accent is ignored', async () => {
    const { page, watch } = await openFront();
    const violations = await watchCsp(page);
    await page.emulateMedia({ colorScheme: 'dark' });
    await apply(page, { colorScheme: 'system', accent: 'red; background: url(https://evil.example/x)' });
    expect(await computed(page, 'html', 'background-color')).toBe('rgb(18, 21, 28)');
    expect(await page.evaluate("document.documentElement.style.getPropertyValue('--cp-accent')")).toBe('');
    await expectNoAxeViolations(page, 'Authenticate screen, system scheme on a dark device');
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await computed(page, 'html', 'background-color')).toBe('rgb(245, 247, 250)');
    await expectNoAxeViolations(page, 'Authenticate screen, system scheme on a light device');
    expect(await violations()).toEqual([]);
    expect(watch.problems).toEqual([]);
    await page.close();
  });
});
