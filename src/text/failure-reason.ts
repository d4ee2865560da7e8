/**
 * A library's error as one short line for a message: whitespace folded, the given secrets (a URI's
 * password) replaced before the cut, so no part of one survives at the 200-character edge.
 */
export function failureReason(error: unknown, secrets: readonly string[] = []): string {
  let text = (error as Error)?.message || String((error as Error)?.name ?? error);
  for (const secret of secrets) text = text.split(secret).join('***');
  return text.replace(/\s+/g, ' ').slice(0, 200);
}
