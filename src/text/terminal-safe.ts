/**
 * Text from a provider or a user, made safe to print: C0 and C1 controls (which terminals act on)
 * and bidi overrides (which reorder what a reader sees) become spaces.
 */
export function terminalSafe(text: string, max = 300): string {
  return text.replace(/[\u0000-\u001F\u007F-\u009F\u2028\u2029\u200E\u200F\u202A-\u202E\u2066-\u2069]+/g, ' ').slice(0, max);
}
