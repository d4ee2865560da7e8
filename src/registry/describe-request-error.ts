import type { ErrorObject } from 'ajv';
import { escapeSegment } from '../text/json-pointer.js';
import { firstRefused } from '../text/text-rule.js';
import { printable } from '../text/printable.js';

/** One refusal of a request, as every caller is told it: the field as a JSON pointer, and the sentence. */
export interface RequestRefusal {
  /** "/name", "/streams/1", "/mapping/tags/~1name"; "/" for the body itself; "querystring/connector" outside the body. */
  field: string;
  /** The field, then what is wrong with it; never the refused value (it may be a secret). */
  detail: string;
}

/**
 * The one wording of a request schema's refusal, for the API's problem details and the services'
 * InputError alike, so the CLI, the library and the API say the same words for the same input.
 * `error` comes from a verbose ajv (its parentSchema carries x-pattern-message); `part` is where
 * in the request it was (Fastify's validationContext).
 */
export function describeRequestError(error: ErrorObject | undefined, part = 'body'): RequestRefusal {
  const extra = error?.params.additionalProperty;
  // A key refused by propertyNames (a "/__proto__/x" mapping entry) is named by its own pointer,
  // unless the key itself is what the text rule refuses: then the map it is in (never echo it).
  const named = typeof extra === 'string' ? extra : error?.propertyName;
  const key = typeof named === 'string' && firstRefused(named) === undefined ? named : undefined;
  const path = `${error?.instancePath ?? ''}${key !== undefined ? `/${escapeSegment(key)}` : ''}`;
  const field = part === 'body' ? path || '/' : `${part}${path}`;
  const keyOfMap = error?.propertyName !== undefined && key === undefined;
  const said = typeof extra === 'string' ? `unknown field "${printable(extra, 40)}"` : (patternSays(error, keyOfMap) ?? error?.message ?? 'is not valid');
  return { field, detail: `${field} ${said}` };
}

/**
 * A refused pattern in the schema's own words (its x-pattern-message), never its regular
 * expression. A map's key the pointer cannot name (the text rule refused it) is "keys" of the map.
 */
function patternSays(error: ErrorObject | undefined, keyOfMap: boolean): string | undefined {
  if (error?.keyword !== 'pattern') return undefined;
  const message = (error.parentSchema as Record<string, unknown> | undefined)?.['x-pattern-message'];
  return typeof message === 'string' ? `${keyOfMap ? 'keys ' : ''}${message}` : undefined;
}
