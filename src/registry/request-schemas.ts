import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ajv, ValidateFunction } from 'ajv';
import { InputError } from '../errors.js';
import { SCHEMAS_DIR } from '../package-info.js';
import { createAjv } from './create-ajv.js';
import { describeRequestError, fieldName } from './describe-request-error.js';

/** Where schemas/ live by $id: a route's `$ref` and a service's check name the same schema. */
export const SCHEMA_BASE = 'https://credport.dev/schemas/';

/** The request bodies the services take, by their file name in schemas/. */
export type RequestSchema =
  | 'access-token-create-request'
  | 'connect-exchange-request'
  | 'connect-selection-request'
  | 'connect-session-create-request'
  | 'credential-create-request'
  | 'credential-rotate-request'
  | 'credential-update-request'
  | 'destination-create-request'
  | 'source-create-request'
  | 'webhook-endpoint-create-request'
  | 'webhook-endpoint-update-request';

let shared: Ajv | undefined;

/**
 * The one ajv of request schemas in this process: every schema of schemas/ added once by its $id,
 * each compiled when first used and then kept, for the services and the HTTP routes alike (the
 * server hands Fastify this instance's functions). No defaults are filled in and nothing is
 * coerced: what is checked is what was sent. Loaded when first needed, so a command that takes
 * no request (credentials list, --help) starts without ajv.
 */
export function requestAjv(): Ajv {
  if (shared) return shared;
  const ajv = createAjv({ verbose: true });
  for (const file of readdirSync(SCHEMAS_DIR)
    .filter((f) => f.endsWith('.schema.json'))
    .sort()) {
    // Not checked against the meta-schema here: that cost about 40 ms of every command that takes a
    // request (credentials add), for files that ship with the package; a unit test checks them instead.
    ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS_DIR, file), 'utf8')) as object, undefined, undefined, false);
  }
  shared = ajv;
  return ajv;
}

let queries: Ajv | undefined;

/**
 * A route's schema as a validator: a bare `$ref` to schemas/ is the very function the services use.
 * A query string's schema (Fastify's httpPart "querystring") is compiled by an ajv that reads its
 * text as the types the schema names (`limit: integer`), so a generated client sends and gets numbers.
 */
export function compileRouteSchema(schema: object, httpPart?: string): ValidateFunction {
  if (httpPart === 'querystring') {
    queries ??= createAjv({ verbose: true, coerceTypes: true });
    return queries.compile(schema);
  }
  const ref = (schema as { $ref?: unknown }).$ref;
  const only = typeof ref === 'string' && Object.keys(schema).length === 1 ? requestAjv().getSchema(ref) : undefined;
  return only ?? requestAjv().compile(schema);
}

/**
 * The service boundary: `input` checked against its request schema before anything else, a
 * refusal thrown as the InputError the API answers with (describe-request-error.ts words both).
 * Only checks a schema cannot say (a credential that must exist, a stream the connector has)
 * are left to the service.
 */
export function checkRequest<T>(schema: RequestSchema, input: T): T {
  const validate = requestAjv().getSchema(`${SCHEMA_BASE}${schema}.schema.json`)!;
  if (!validate(input)) {
    const { field, detail } = describeRequestError(validate.errors);
    throw new InputError(detail, { field: fieldName(field) });
  }
  return input;
}
