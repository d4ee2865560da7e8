import { redact, STRETCH } from './redact.js';

/**
 * The provider's words, kept for later (an audit detail, a tile's reason), less anything of the
 * credential's values, by the one rule of redact.ts. Only values of STRETCH (8) characters or more
 * count here: the provider's part of this text was already redacted by the HTTP layer, and a short
 * value would blank credport's own sentence around it ("test failed").
 */
export function scrubSecrets(text: string, secrets: Readonly<Record<string, unknown>>): string {
  return redact(text, Object.values(secrets), STRETCH);
}
