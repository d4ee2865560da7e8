import { expect } from '@jest/globals';
import type { Locator, Page } from 'playwright-core';

/**
 * After a flow: the secret is nowhere the page can reach. Not in the DOM, not in an input's value,
 * not in any response body the page received, not in localStorage or sessionStorage, not in the URL.
 * The only thing stored is the session token, in sessionStorage.
 * And the page ran under its CSP without a violation or an uncaught error.
 */
export async function expectNoSecretInPage(
  page: Page,
  watch: { bodies: () => Promise<string[]>; problems: string[] },
  secrets: string[],
): Promise<void> {
  const html = await page.content();
  const values = (await page.evaluate(
    "JSON.stringify([...document.querySelectorAll('input, textarea, select')].map((e) => e.value))",
  )) as string;
  const storage = (await page.evaluate('JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])')) as string;
  const bodies = await watch.bodies();
  expect(bodies.length).toBeGreaterThan(3);
  for (const secret of secrets) {
    expect(html).not.toContain(secret);
    expect(values).not.toContain(secret);
    expect(storage).not.toContain(secret);
    expect(page.url()).not.toContain(secret);
    for (const body of bodies) expect(body).not.toContain(secret);
  }
  const [local, session] = JSON.parse(storage) as [[string, string][], [string, string][]];
  expect(local).toEqual([]);
  expect(session.map(([key]) => key)).toEqual(['credport.session']);
  expect(watch.problems).toEqual([]);
}

/** The text of what an input's aria-describedby points at: its help and its error, as a screen reader reads them. */
export async function descriptionOf(input: Locator): Promise<string> {
  // Runs in the page; typed structurally, since the tests compile without the DOM library.
  return input.evaluate((el: DomElement) =>
    (el.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .map((id) => el.ownerDocument.getElementById(id)?.textContent ?? '')
      .join(' '),
  );
}

interface DomElement {
  getAttribute(name: string): string | null;
  ownerDocument: { getElementById(id: string): { textContent: string | null } | null };
}
