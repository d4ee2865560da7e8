import { UNPRINTABLE_RUNS } from './text-rule.js';

/**
 * Text from a provider, a user or the store, made safe to print: every character the text rule
 * refuses (C0 and C1 controls, which terminals act on; bidi marks, which reorder what a reader sees;
 * invisible characters, which hide a difference) becomes a space. Records saved before the rule
 * existed print safely too.
 */
export function terminalSafe(text: string, max = 300): string {
  return text.replace(UNPRINTABLE_RUNS, ' ').slice(0, max);
}
