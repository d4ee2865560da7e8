import { createRequire } from 'node:module';
import type { Ajv } from 'ajv';

// ajv and ajv-formats are CommonJS, so they load synchronously, and only when a validator is first
// built: a command that never validates (credentials list, --help) does not pay for them (~30 ms).
const require = createRequire(import.meta.url);

/**
 * Keywords of ours that schemas may carry: annotations only, ignored by renderers and json2ts.
 * They hold the words a refusal says (describe-request-error.ts): x-pattern-message (never the
 * regular expression) and x-message (any other refusal of that value) follow the field's name;
 * x-unique-items-message and x-min-properties-message are whole sentences about the list or object
 * ({item} is the repeated item); x-input-name is what a refusal calls the request body itself.
 */
export const ANNOTATION_KEYWORDS = [
  'x-pattern-message',
  'x-message',
  'x-unique-items-message',
  'x-min-properties-message',
  'x-input-name',
] as const;

/**
 * One strict draft-07 validator; strict mode refuses typos in schemas instead of ignoring them.
 * allErrors: a rejected row or form names every problem, not only the first one ajv meets.
 * `fillDefaults` writes a field's default into the input (Frontegg's region in a form); request
 * bodies are validated without it, so what is sent is what the record said. `verbose` keeps each
 * error's schema beside it, so a refusal can be worded by the annotations above. `coerceTypes` is
 * for query strings only, whose values are all text: `?limit=20` is the number its schema says.
 */
export function createAjv(options: { fillDefaults?: boolean; verbose?: boolean; coerceTypes?: boolean } = {}): Ajv {
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
  // Under NodeNext ajv-formats' default export arrives untyped as callable.
  const addFormats = (require('ajv-formats') as { default: (ajv: Ajv) => Ajv }).default;
  const ajv = new AjvClass({
    allErrors: true,
    strict: true,
    strictRequired: false,
    useDefaults: options.fillDefaults === true,
    verbose: options.verbose === true,
    coerceTypes: options.coerceTypes === true,
  });
  addFormats(ajv);
  for (const keyword of ANNOTATION_KEYWORDS) ajv.addKeyword({ keyword, schemaType: 'string' });
  return ajv;
}
