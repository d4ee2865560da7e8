import { InputError } from '../errors.js';
import { firstRefused, TEXT_MESSAGES, type TextKind } from './text-rule.js';

/**
 * The services' side of the text rule (the HTTP schemas apply the same patterns): the CLI and the
 * library call the services directly, so what they store is checked here too. The message names
 * the field and the character found by its code point, never the character itself.
 */
export function checkPrintable(value: string, field: string, kind: TextKind = 'singleLine'): string {
  const found = firstRefused(value, kind);
  if (found !== undefined) throw new InputError(`${field} ${TEXT_MESSAGES[kind]} (found ${found})`, { field });
  return value;
}

/** A name shown in lists (a source, a destination, a token): printable, then trimmed to 1-100 characters. */
export function checkName(value: unknown, field = 'name'): string {
  if (typeof value === 'string') checkPrintable(value, field);
  const trimmed = typeof value === 'string' ? value.trim() : '';
  if (trimmed === '' || trimmed.length > 100)
    throw new InputError(`${field} must be 1-100 characters without control characters`, { field });
  return trimmed;
}
