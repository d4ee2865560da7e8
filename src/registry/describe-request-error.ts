import type { ErrorObject } from 'ajv';
import { escapeSegment, isSafeKey, unescapeSegment } from '../text/json-pointer.js';
import { printable } from '../text/printable.js';
import { firstRefused, TEXT_PATTERNS, type TextKind } from '../text/text-rule.js';

/** One refusal of a request, as every caller is told it: the field as a JSON pointer, and the sentence. */
export interface RequestRefusal {
  /** "/name", "/streams/1", "/mapping/tags/~1name"; "/" for the body itself; "/path/id", "/query/since" outside the body. */
  field: string;
  /** What is wrong, said of the field by its name (see fieldName); never the refused value (it may be a secret). */
  detail: string;
}

type Schema = Record<string, unknown>;

/**
 * The one wording of a request schema's refusal, for the API's problem details and the services'
 * InputError alike, so the CLI, the library and the API say the same words for the same input.
 * `errors` come from a verbose ajv (each keeps its schema, which may carry our words: see
 * ANNOTATION_KEYWORDS in create-ajv.ts); `part` is where in the request it was (Fastify's
 * validationContext). The sentence names the field as the services do: "name is required",
 * "/streams/1 must not be ...", "update input has an unknown field "color" (allowed: ...)".
 */
export function describeRequestError(errors: readonly ErrorObject[] | null | undefined, part = 'body'): RequestRefusal {
  const error = mostTelling(errors ?? []);
  const outside = OUTSIDE_THE_BODY[part];
  if (error === undefined) return { field: outside?.pointer ?? '/', detail: `${outside?.name ?? 'the request body'} is not valid` };
  const schema = (error.parentSchema ?? {}) as Schema;
  const path = `${error.instancePath}${pointerTail(error)}`;
  const field = outside ? `${outside.pointer}${path}` : path || '/';
  const sentence = wholeSentence(error, schema);
  if (sentence !== undefined) return { field, detail: sentence };
  // An unknown field is said of the object that holds it: the body ("update input"), or a member.
  const subject = subjectOf(error.keyword === 'additionalProperties' ? error.instancePath : path, part, schema);
  return { field, detail: `${subject} ${predicate(error, schema)}` };
}

/**
 * The parts of a request besides its body (Fastify's validationContext), as the first segment of
 * the pointer a refusal names ("/path/id", "/query/since") and as a whole in a sentence.
 */
const OUTSIDE_THE_BODY: Readonly<Record<string, { pointer: string; name: string }>> = {
  params: { pointer: '/path', name: 'the path' },
  querystring: { pointer: '/query', name: 'the query string' },
  headers: { pointer: '/header', name: 'the headers' },
};

/**
 * The field as the services name it: a member of the body by its name ("values"), which the API's
 * problem details turn back into the pointer ("/values"); a deeper place, or the body itself, by
 * its pointer ("/streams/1", "/").
 */
export function fieldName(pointer: string): string {
  const segments = pointer.split('/');
  const name = segments.length === 2 ? unescapeSegment(segments[1]!) : '';
  return name === '' || name.startsWith('/') ? pointer : name;
}

/**
 * Where ajv puts the refused key or missing member beside the object's own path: a missing member
 * and an unknown field by their own pointer (an unknown one only when it is printable: never echo
 * a key the text rule refuses), a key refused by propertyNames likewise, else the map it is in.
 */
function pointerTail(error: ErrorObject): string {
  const missing = error.keyword === 'required' ? error.params.missingProperty : undefined;
  if (typeof missing === 'string') return `/${escapeSegment(missing)}`;
  const extra = error.params.additionalProperty;
  const key = typeof extra === 'string' ? extra : error.propertyName;
  return typeof key === 'string' && firstRefused(key) === undefined ? `/${escapeSegment(key)}` : '';
}

/** The refusal with words of the schema's own first (an author's sentence beats ajv's), else ajv's first. */
function mostTelling(errors: readonly ErrorObject[]): ErrorObject | undefined {
  return errors.find((e) => ownWords(e.keyword, (e.parentSchema ?? {}) as Schema) !== undefined) ?? errors[0];
}

/** x-<keyword>-message, else the value's x-message: words the schema's author wrote for this refusal. */
function ownWords(keyword: string, schema: Schema): string | undefined {
  return keywordWords(keyword, schema) ?? (typeof schema['x-message'] === 'string' ? schema['x-message'] : undefined);
}

/** x-pattern-message for `pattern`, x-unique-items-message for `uniqueItems`, and so on. */
function keywordWords(keyword: string, schema: Schema): string | undefined {
  const words = schema[`x-${keyword.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}-message`];
  return typeof words === 'string' ? words : undefined;
}

/** A list or an object refused as a whole says the schema's sentence as it stands; {item} is the repeated item. */
function wholeSentence(error: ErrorObject, schema: Schema): string | undefined {
  const words = WHOLE_SENTENCE_KEYWORDS.includes(error.keyword) ? keywordWords(error.keyword, schema) : undefined;
  if (words === undefined) return undefined;
  const item = Array.isArray(error.data) && typeof error.params.i === 'number' ? error.data[error.params.i] : undefined;
  return words.replace('{item}', `"${printable(String(item))}"`);
}

/** Keywords that judge an object or a list as a whole: their words are a sentence of their own, not said after a name. */
const WHOLE_SENTENCE_KEYWORDS: readonly string[] = ['minProperties', 'uniqueItems'];

/** The field's name as the services say it; the body itself by what its schema calls it ("update input"). */
function subjectOf(path: string, part: string, schema: Schema): string {
  // A path or query parameter by its name ("since"), as the route's own checks name it.
  if (part !== 'body') return path === '' ? (OUTSIDE_THE_BODY[part]?.name ?? part) : fieldName(path);
  if (path !== '') return fieldName(path);
  return typeof schema['x-input-name'] === 'string' ? schema['x-input-name'] : 'the request body';
}

/** What is wrong, said after the field's name. */
function predicate(error: ErrorObject, schema: Schema): string {
  const p = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    const allowed = Object.keys((schema.properties ?? {}) as Schema);
    return `has an unknown field "${printable(String(p.additionalProperty), 40)}" (allowed: ${allowed.join(', ')})`;
  }
  if (error.keyword === 'required') return 'is required';
  // A map's key the pointer cannot name (the text rule refused it) is "keys" of the map.
  const keys = error.propertyName !== undefined && pointerTail(error) === '' ? 'keys ' : '';
  const words = ownWords(error.keyword, schema);
  if (words !== undefined) return `${keys}${words}${error.keyword === 'pattern' ? found(error) : ''}`;
  switch (error.keyword) {
    case 'type':
      return `must be ${[p.type]
        .flat()
        .map((t) => TYPE_WORDS[String(t)] ?? `a ${String(t)}`)
        .join(' or ')}`;
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters`;
    case 'maxLength':
      return `must be at most ${String(p.limit)} characters`;
    case 'minimum':
      return `must be at least ${String(p.limit)}`;
    case 'maximum':
      return `must be at most ${String(p.limit)}`;
    default:
      return error.message ?? 'is not valid';
  }
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  object: 'an object',
  array: 'an array',
  integer: 'a whole number',
  boolean: 'true or false',
};

/**
 * What a refused pattern found, named without echoing it: the text rule's first refused character
 * by its code point, "(found U+0007)"; a JSON pointer's segment that names a prototype slot,
 * "(found the segment "__proto__")" (one of three fixed words, so it can be said).
 */
function found(error: ErrorObject): string {
  const value = error.propertyName ?? error.data;
  if (typeof value !== 'string') return '';
  const kind = (Object.keys(TEXT_PATTERNS) as TextKind[]).find((k) => TEXT_PATTERNS[k] === error.params.pattern);
  if (kind !== undefined) {
    const char = firstRefused(value, kind);
    return char === undefined ? '' : ` (found ${char})`;
  }
  const segment = value.startsWith('/')
    ? value
        .split('/')
        .slice(1)
        .map(unescapeSegment)
        .find((key) => !isSafeKey(key))
    : undefined;
  return segment === undefined ? '' : ` (found the segment "${segment}")`;
}
