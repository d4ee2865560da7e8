import type { ErrorObject } from 'ajv';
import { InputError } from '../errors.js';
import { printable } from '../text/printable.js';

interface PropertySchema {
  title?: string;
  'x-pattern-message'?: string;
}

/**
 * Turns ajv's errors on form input into one InputError naming the field by its title.
 * Messages never quote the value: it may be a secret.
 */
export function describeValidationErrors(errors: ErrorObject[], properties: Record<string, PropertySchema>): InputError {
  const first = pickMostUseful(errors);
  const field = fieldOf(first);
  // Own properties only: a caller's field named "constructor" or "__proto__" must not find Object's.
  const property = field !== undefined && Object.hasOwn(properties, field) ? properties[field] : undefined;
  const title = property?.title;
  const label = title ? `${title} (${field})` : field ? `"${field}"` : 'input';
  const message = `${label} ${phrase(first, property)}`;
  return new InputError(message, field ? { field } : {});
}

function pickMostUseful(errors: ErrorObject[]): ErrorObject {
  // Unknown fields and missing fields first: they are what a caller fixes before anything else.
  const order = ['additionalProperties', 'required', 'type'];
  for (const keyword of order) {
    const found = errors.find((e) => e.keyword === keyword);
    if (found) return found;
  }
  return errors[0]!;
}

function fieldOf(error: ErrorObject): string | undefined {
  if (error.keyword === 'required') return String(error.params.missingProperty);
  // An unknown field's name comes from the caller: show it printable and short.
  if (error.keyword === 'additionalProperties') return printable(String(error.params.additionalProperty));
  const top = error.instancePath.split('/')[1];
  return top === undefined || top === '' ? undefined : top.replace(/~1/g, '/').replace(/~0/g, '~');
}

function phrase(error: ErrorObject, property: PropertySchema | undefined): string {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a field of this form (unknown field)';
    case 'type':
      return `must be a ${String(p.type)}`;
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters`;
    case 'maxLength':
      return `must be at most ${String(p.limit)} characters`;
    case 'pattern':
      return property?.['x-pattern-message'] ?? 'contains characters that are not allowed';
    case 'enum':
      return `must be one of: ${(p.allowedValues as unknown[]).map(String).join(', ')}`;
    default:
      return error.message ?? 'is not valid';
  }
}
