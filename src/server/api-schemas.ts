import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { SCHEMA_BASE } from '../registry/request-schemas.js';
import type { JsonSchemaFile } from './openapi-components.js';

/** A route's reference to one of schemas/ by its $id. */
export const ref = (name: string) => ({ $ref: `${SCHEMA_BASE}${name}.schema.json#` });

/** A response header as a route declares it (@fastify/swagger: a schema with a description). */
type Header = { description: string; type: string; format?: string; minimum?: number };
type Headers = Record<string, Header>;

/** What each error status means, in the OpenAPI document. */
const PROBLEM_MEANS: Record<number, string> = {
  400: 'Bad input: `field` names it, as a JSON pointer into the request (`/values/apiKey`, `/path/id`, `/query/since`)',
  401: 'Not signed in: no token, or one that is not (or no longer) valid',
  403:
    "Forbidden: beyond the caller's role, a cross-site request (Origin), an outbound origin the policy refuses " +
    '(`outbound_refused`), or a Host header this server does not answer on loopback (`host_not_allowed`)',
  404: "Not found (another workspace's object is not found either)",
  409:
    'Conflict: in use (`in_use`), a write lost to other writers (`write_conflict`), a sync that is not failed (`not_failed`), ' +
    'a destination another sync is writing (`destination_busy`)',
  410:
    'Gone: a connect session token exchanged already (`connect_token_used`), or its session expired (`connect_session_expired`) ' +
    'or revoked (`connect_session_revoked`)',
  413: 'The body is over 64 KiB',
  415: 'The body is not JSON (send Content-Type: application/json)',
  422: "The provider rejected the credential (`detail` in its own words; `field` the secret's, when the request carried it)",
  429: "Too many verifications by this caller (a workspace's tokens share one budget): try again after Retry-After",
  502: 'The provider could not be reached',
  503: 'The store cannot be used',
  504: 'The provider did not answer in time',
};

/** Headers some error answers carry. */
const PROBLEM_HEADERS: Record<number, Headers> = {
  401: { 'WWW-Authenticate': { description: 'Bearer realm="credport": send a token as Authorization: Bearer', type: 'string' } },
  429: { 'Retry-After': { description: 'Seconds until this caller may verify again', type: 'integer', minimum: 0 } },
};

/**
 * Every route under /api/v1 may answer these: 401 before anything else, 403 for a Host header
 * it does not answer, and 503 when the store that holds workspace tokens cannot be read.
 */
const EVERY_ROUTE = [401, 403, 503];
/** A request whose method carries a body: Fastify parses one whenever it is sent, so these follow. */
export const BODY = [400, 413, 415];

/**
 * The problem answers a route may give (application/problem+json, one shared schema), besides
 * the ones every route may give, so the OpenAPI document lists exactly what the server sends.
 */
export const problems = (...statuses: number[]) =>
  Object.fromEntries(
    [...new Set([...statuses, ...EVERY_ROUTE])]
      .sort((a, b) => a - b)
      .map((status) => [
        status,
        {
          description: PROBLEM_MEANS[status] ?? `Error ${status}`,
          ...(PROBLEM_HEADERS[status] ? { headers: PROBLEM_HEADERS[status] } : {}),
          content: { 'application/problem+json': { schema: ref('api-problem') } },
        },
      ]),
  );

/** A JSON answer with a description and the headers it carries (a `Location`, rate-limit counters). */
export function answer(description: string, schema: object, headers?: Headers) {
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema } } };
}

/** `Location` of a 201 or 202: where the new (or accepted) resource is read. */
export const location = (what: string): Headers => ({
  Location: { description: `The URL of ${what}, relative to the server`, type: 'string', format: 'uri-reference' },
});

/** What @fastify/rate-limit adds to the answers of a limited route. */
export const RATE_LIMIT_HEADERS: Headers = {
  'X-RateLimit-Limit': { description: 'Verifications allowed per window', type: 'integer', minimum: 0 },
  'X-RateLimit-Remaining': { description: 'Verifications left in this window', type: 'integer', minimum: 0 },
  'X-RateLimit-Reset': { description: 'Seconds until the window starts again', type: 'integer', minimum: 0 },
};

/**
 * A rate-limited route's answers, each declaring the counters @fastify/rate-limit adds once the
 * request is counted (after authentication: a 401 has none).
 */
export function rateLimited<R extends Record<string | number, { headers?: Headers }>>(responses: R): R {
  return Object.fromEntries(
    Object.entries(responses).map(([status, response]) => [
      status,
      status === '401' ? response : { ...response, headers: { ...response.headers, ...RATE_LIMIT_HEADERS } },
    ]),
  ) as R;
}

/**
 * The same schemas/ that drive the CLI and the generated types drive the API: each is added once
 * by its $id, routes validate and serialise with them, and the OpenAPI document is made from them.
 * Returns them as read, for the document's components (openapi-components.ts).
 */
export async function addSharedSchemas(app: FastifyInstance, schemaDir: string): Promise<JsonSchemaFile[]> {
  const files: JsonSchemaFile[] = [];
  for (const file of (await readdir(schemaDir)).filter((f) => f.endsWith('.schema.json')).sort()) {
    const text = await readFile(join(schemaDir, file), 'utf8');
    const schema = JSON.parse(text) as Record<string, unknown>;
    delete schema.$schema;
    app.addSchema(schema);
    files.push(JSON.parse(text) as JsonSchemaFile);
  }
  return files;
}
