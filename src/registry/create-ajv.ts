import { Ajv } from 'ajv';
import addFormatsImport from 'ajv-formats';

// ajv-formats is CJS; under NodeNext its default export arrives untyped as callable.
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

/** Keywords of ours that schemas may carry: annotations only, ignored by renderers and json2ts. */
export const ANNOTATION_KEYWORDS = ['x-pattern-message'] as const;

/** One strict draft-07 validator; strict mode refuses typos in schemas instead of ignoring them. */
export function createAjv(): Ajv {
  // useDefaults fills a field's default (Frontegg's region) into the validated input.
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, useDefaults: true });
  addFormats(ajv);
  for (const keyword of ANNOTATION_KEYWORDS) ajv.addKeyword({ keyword, schemaType: 'string' });
  return ajv;
}
