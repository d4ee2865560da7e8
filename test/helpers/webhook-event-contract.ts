// The webhook event bodies as a receiver judges them: ajv (strict, as a receiver that cares would
// run it; union types allowed, since a tile's identity values are string, number or boolean) with
// every schema of schemas/ added by its $id, so an event's $refs to the tile and the summary resolve.
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { ANNOTATION_KEYWORDS } from '../../src/registry/create-ajv.js';

const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;
const SCHEMAS = new URL('../../schemas/', import.meta.url);
const BASE = 'https://credport.dev/schemas/';

let ajv: Ajv | undefined;

function receiverAjv(): Ajv {
  if (ajv) return ajv;
  ajv = addFormats(new Ajv({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true }));
  for (const keyword of ANNOTATION_KEYWORDS) ajv.addKeyword({ keyword, schemaType: 'string' });
  for (const file of readdirSync(SCHEMAS).filter((f) => f.endsWith('.schema.json')))
    ajv.addSchema(JSON.parse(readFileSync(new URL(file, SCHEMAS), 'utf8')) as object);
  return ajv;
}

/** The validator of schemas/<file> (compiled on first use). */
export function webhookSchema(file: string): ValidateFunction {
  return receiverAjv().getSchema(`${BASE}${file}`)!;
}

/** The schema file of an event type: schemas/webhook-event-<type, dots as dashes>.schema.json. */
export const schemaFileOf = (type: string) => `webhook-event-${type.replaceAll('.', '-')}.schema.json`;

/** Why `body` is not a valid event (its own type's schema, then the union a receiver checks), or undefined when it is. */
export function eventProblem(body: { type: string }): string | undefined {
  const type = body.type;
  for (const validate of [webhookSchema(schemaFileOf(type)), webhookSchema('webhook-event.schema.json')]) {
    if (!validate(body)) return `${type}: ${receiverAjv().errorsText(validate.errors)}`;
  }
  return undefined;
}
