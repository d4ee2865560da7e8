import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { SCHEMA_BASE } from '../registry/request-schemas.js';

/** A route's reference to one of schemas/ by its $id. */
export const ref = (name: string) => ({ $ref: `${SCHEMA_BASE}${name}.schema.json#` });

/** The problem answers every route may give, so the OpenAPI document lists them. */
export const problems = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, ref('api-problem')]));

/**
 * The same schemas/ that drive the CLI and the generated types drive the API: each is added once
 * by its $id, routes validate and serialise with them, and the OpenAPI document is made from them.
 */
export async function addSharedSchemas(app: FastifyInstance, schemaDir: string): Promise<void> {
  for (const file of (await readdir(schemaDir)).filter((f) => f.endsWith('.schema.json')).sort()) {
    const schema = JSON.parse(await readFile(join(schemaDir, file), 'utf8')) as Record<string, unknown>;
    delete schema.$schema;
    app.addSchema(schema);
  }
}
