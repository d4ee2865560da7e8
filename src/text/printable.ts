/**
 * Shows caller-supplied text in a message: printable ASCII only, and short. Never pass a secret.
 * Stricter than the text rule (text-rule.ts): everything that rule refuses is outside this range.
 */
export function printable(text: string, max = 40): string {
  const clean = text.replace(/[^\x20-\x7E]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}
