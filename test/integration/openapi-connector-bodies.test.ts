import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { API_TOKEN, type ApiUnderTest, startApi } from '../helpers/api-server.js';
import { writeConnector } from '../helpers/connector-fixtures.js';
import type { JsonBody } from '../helpers/json-body.js';
import { tempHome } from '../helpers/temp-home.js';

// The credential bodies typed per connector in the served document, made at start from the
// registry, a host's own connector folder included; the server still validates as it did.

const VALIDATE = fileURLToPath(new URL('../helpers/validate-openapi.mjs', import.meta.url));
const COMPONENTS = '#/components/schemas/';

let api: ApiUnderTest;
let schemas: Record<string, JsonBody>;
let document: string;

beforeAll(async () => {
  const connectors = await tempHome();
  await writeConnector(connectors, 'acme');
  api = await startApi({ open: { extraConnectorDirs: [connectors] } });
  const answer = await fetch(`${api.url}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  document = await answer.text();
  schemas = (JSON.parse(document) as JsonBody).components.schemas;
});
afterAll(() => api.close());

const post = async (body: unknown): Promise<{ status: number; body: JsonBody }> => {
  const answer = await fetch(`${api.url}/api/v1/credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: answer.status, body: await answer.json() };
};

describe('the credential bodies in the OpenAPI document', () => {
  it('are a oneOf discriminated by connector, one per connector loaded, a host-supplied one included', () => {
    const ids = ['acme', 'front', 'frontegg', 'frontline'];
    expect(schemas.CredentialCreateRequest.discriminator).toEqual({
      propertyName: 'connector',
      mapping: Object.fromEntries(ids.map((id) => [id, `${COMPONENTS}CredentialCreateRequest-${id}`])),
    });
    expect(schemas.CredentialCreateRequest.oneOf).toEqual(ids.map((id) => ({ $ref: `${COMPONENTS}CredentialCreateRequest-${id}` })));
    expect(schemas['CredentialCreateRequest-front'].properties.connector).toEqual({ type: 'string', const: 'front' });
    expect(schemas['CredentialCreateRequest-front'].properties.values.$ref).toBe(`${COMPONENTS}CredentialValues-front`);
    expect(schemas['CredentialCreateRequest-front'].required).toEqual(['connector', 'values']);
    expect(schemas['CredentialCreateRequest-front'].additionalProperties).toBe(false);
  });

  it("type `values` by the connector's credential schema and rotate's `secrets` by its fields other than name and description", () => {
    expect(Object.keys(schemas['CredentialValues-front'].properties)).toEqual(['name', 'description', 'apiKey']);
    expect(schemas['CredentialValues-front'].required).toEqual(['name', 'apiKey']);
    expect(schemas['CredentialValues-front'].properties.apiKey).toMatchObject({ type: 'string', writeOnly: true, minLength: 8 });
    expect(schemas['CredentialValues-acme'].properties.token).toMatchObject({ type: 'string', writeOnly: true, minLength: 8 });
    expect(Object.keys(schemas['CredentialSecrets-frontegg'].properties)).toEqual(['clientId', 'secret', 'region', 'domain']);
    expect(schemas.CredentialRotateRequest.properties.secrets.anyOf).toContainEqual({ $ref: `${COMPONENTS}CredentialSecrets-acme` });
  });

  it('stay valid for swagger-parser with a host-supplied connector', async () => {
    const dir = join(api.home, 'doc');
    await mkdir(dir);
    await writeFile(join(dir, 'openapi.json'), document);
    const { stdout } = await promisify(execFile)(process.execPath, [VALIDATE, join(dir, 'openapi.json')], { cwd: dir }).catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
    );
    expect(stdout.trim()).toBe('valid');
  });

  it("leave the server's validation as it was: the refusals the library gives, in its words, for the host's connector too", async () => {
    const bodies = [
      { connector: 'acme', values: { name: 'Acme', token: 'short' }, verify: false },
      { connector: 'acme', values: { name: 'Acme', token: 'acme-token-1', apiKey: 'x' }, verify: false },
      { connector: 'front', values: { name: 'Support', token: 'acme-token-1' }, verify: false },
      { connector: 'front', values: { name: 'Support', apiKey: 'front-token-1' }, verify: false, color: 'red' },
    ];
    for (const body of bodies) {
      const library = await api.credport.credentials.create(structuredClone(body) as never).then(
        () => undefined,
        (error: Error & { field?: string }) => ({ detail: error.message, field: error.field }),
      );
      const answer = await post(body);
      expect([answer.status, answer.body.detail]).toEqual([400, library?.detail]);
    }
    const saved = await post({ connector: 'acme', values: { name: 'Acme', token: 'acme-token-1' }, verify: false });
    expect(saved).toMatchObject({ status: 201, body: { connector: 'acme', status: 'unverified' } });
  });
});
