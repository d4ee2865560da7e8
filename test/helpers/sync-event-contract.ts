// The sync event stream as a host reads it, judged by ajv: against schemas/ (what `credport sync
// --json` prints and a queue worker publishes) or against the OpenAPI document the server serves
// (what GET /syncs/{id}/events streams). An event whose kind has no schema, or that carries a field
// its schema does not name, fails with the event and the reason.
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { ANNOTATION_KEYWORDS } from '../../src/registry/create-ajv.js';
import type { JsonBody } from './json-body.js';

const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;
const SCHEMAS = new URL('../../schemas/', import.meta.url);
const readSchema = (file: string): JsonBody => JSON.parse(readFileSync(new URL(file, SCHEMAS), 'utf8'));

export interface EventContract {
  /** The union: any event of a sync. */
  union: ValidateFunction;
  /** Each kind's own schema, by its `event` value (for a precise reason when the union refuses one). */
  kinds: Map<string, ValidateFunction>;
  /** A named schema of the same source (`SyncJob`, `SyncSummary`). */
  schema: (title: string) => ValidateFunction;
}

/** schemas/sync-event.schema.json and the per-kind schemas its oneOf names, by their $id. */
export function fileContract(): EventContract {
  const ajv = addFormats(new Ajv({ strict: true, strictRequired: false, allErrors: true }));
  for (const keyword of ANNOTATION_KEYWORDS) ajv.addKeyword({ keyword, schemaType: 'string' });
  const byTitle = new Map<string, string>();
  for (const file of readdirSync(SCHEMAS).filter((f) => f.endsWith('.schema.json'))) {
    const schema = readSchema(file);
    ajv.addSchema(schema);
    byTitle.set(schema.title, schema.$id);
  }
  const union = readSchema('sync-event.schema.json');
  const kinds = new Map<string, ValidateFunction>();
  for (const { $ref } of union.oneOf as { $ref: string }[]) {
    const validate = ajv.getSchema($ref)!;
    kinds.set(kindOf(validate.schema as JsonBody), validate);
  }
  return { union: ajv.getSchema(union.$id)!, kinds, schema: (title) => ajv.getSchema(byTitle.get(title)!)! };
}

/** The same contract as the served OpenAPI 3.1 document states it: its components, in JSON Schema 2020-12. */
export function servedContract(doc: JsonBody): EventContract {
  const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }) as unknown as Ajv);
  const base = 'https://credport.test/openapi.json';
  ajv.addSchema({ $id: base, components: doc.components });
  const component = (name: string) => ajv.getSchema(`${base}#/components/schemas/${name}`)!;
  const kinds = new Map<string, ValidateFunction>();
  for (const { $ref } of doc.components.schemas.SyncEvent.oneOf as { $ref: string }[]) {
    const name = $ref.replace('#/components/schemas/', '');
    kinds.set(kindOf(doc.components.schemas[name]), component(name));
  }
  return { union: component('SyncEvent'), kinds, schema: component };
}

/** The `event` value a kind's schema admits (`const`, or the one-value `enum` @fastify/swagger writes for it). */
function kindOf(schema: JsonBody): string {
  const event = schema.properties.event;
  return event.const ?? event.enum[0];
}

/** Throws, naming the event and the reason, unless every event is one the contract admits; returns the kinds seen. */
export function checkEvents(contract: EventContract, events: unknown[]): Set<string> {
  const seen = new Set<string>();
  for (const [i, event] of events.entries()) {
    const kind = (event as { event?: unknown } | null)?.event;
    if (!contract.union(event)) {
      const own = typeof kind === 'string' ? contract.kinds.get(kind) : undefined;
      if (!own) throw new Error(`event ${i} has no schema for its kind ${JSON.stringify(kind)}: ${JSON.stringify(event)}`);
      own(event);
      throw new Error(`event ${i} (${kind}) breaks its schema: ${describe(own.errors ?? contract.union.errors)}: ${JSON.stringify(event)}`);
    }
    seen.add(kind as string);
  }
  return seen;
}

/** The same for one value against a named schema (a SyncJob). */
export function checkValue(validate: ValidateFunction, value: unknown): void {
  if (!validate(value)) throw new Error(`${describe(validate.errors)}: ${JSON.stringify(value)}`);
}

function describe(errors: ValidateFunction['errors']): string {
  return (errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message}${e.keyword === 'additionalProperties' ? ` (${e.params.additionalProperty})` : ''}`)
    .join('; ');
}
