import { redact } from './redact.js';
import { SHORTEST_URI_SECRET } from './redact-uri.js';

/**
 * A library's error as one short line for a message: whitespace folded, the given secrets (a URI's
 * password, see secretsOfUri) redacted before the cut, so no part of one survives at the 200-character edge.
 */
export function failureReason(error: unknown, secrets: readonly string[] = []): string {
  const text = redact((error as Error)?.message || String((error as Error)?.name ?? error), secrets, SHORTEST_URI_SECRET);
  return text.replace(/\s+/g, ' ').slice(0, 200);
}
