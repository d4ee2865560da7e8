import { expect } from '@jest/globals';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

/** WCAG 2.1 A and AA: the level the "Done when" names. */
export const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * Runs axe on the page as it is now (an open dialog included) and fails with a readable list:
 * each violated rule, its impact and help, and the elements it found with axe's own summary of
 * what to fix, so a red test says what to change without opening a report.
 */
export async function expectNoAxeViolations(page: Page, label: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(WCAG_21_AA).analyze();
  const found = results.violations.map((violation) =>
    [
      `${violation.id} (${violation.impact ?? 'no impact given'}): ${violation.help}`,
      ...violation.nodes.map((node) => `  - ${node.target.join(' ')}\n    ${node.failureSummary?.replace(/\n/g, '\n    ') ?? ''}`),
    ].join('\n'),
  );
  // The label is part of the value compared, so the failure names the screen it was found on.
  expect({ screen: label, violations: found }).toEqual({ screen: label, violations: [] });
}
