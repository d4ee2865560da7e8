import { Ajv } from 'ajv';
import addFormatsImport from 'ajv-formats';

// ajv-formats is CJS; under NodeNext its default export arrives untyped as callable.
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

/** Keywords of ours that schemas may carry: annotations only, ignored by renderers and json2ts. */
export const ANNOTATION_KEYWORDS = ['x-pattern-message'] as const;

/**
 * One strict draft-07 validator; strict mode refuses typos in schemas instead of ignoring them.
 * `fillDefaults` writes a field's default into the input (Frontegg's region in a form); request
 * bodies are validated without it, so what is sent is what the record said.
 */
export function createAjv(options: { fillDefaults?: boolean } = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, useDefaults: options.fillDefaults === true });
  addFormats(ajv);
  for (const keyword of ANNOTATION_KEYWORDS) ajv.addKeyword({ keyword, schemaType: 'string' });
  return ajv;
}
