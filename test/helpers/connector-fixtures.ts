import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A second, host-supplied connector, written as data into a folder of extra connectors. */
export async function writeConnector(
  root: string,
  id: string,
  patch: (manifest: Record<string, unknown>) => void = () => undefined,
  schema?: unknown,
): Promise<string> {
  const dir = join(root, id);
  await mkdir(dir, { recursive: true });
  const manifest: Record<string, unknown> = {
    id,
    title: id.toUpperCase(),
    docs: 'https://example.com/docs',
    credential: { schema: './credential.schema.json', uiSchema: { 'ui:order': ['name', 'description', 'token'] } },
    auth: { strategy: 'bearer', secret: 'token' },
    http: { baseUrl: `https://api.${id}.example`, allowedHosts: [] },
    verification: { method: 'GET', path: '/me', identity: { id: '/id', name: '/name' } },
    errors: { message: '/error' },
  };
  patch(manifest);
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  await writeFile(
    join(dir, 'credential.schema.json'),
    JSON.stringify(
      schema ?? {
        $schema: 'http://json-schema.org/draft-07/schema#',
        $id: `https://example.com/${id}.schema.json`,
        type: 'object',
        properties: {
          name: { $ref: 'https://credport.dev/schemas/credential-fields.schema.json#/definitions/name' },
          description: { $ref: 'https://credport.dev/schemas/credential-fields.schema.json#/definitions/description' },
          token: { title: 'Token', type: 'string', writeOnly: true, minLength: 8 },
        },
        required: ['name', 'token'],
        additionalProperties: false,
      },
    ),
  );
  return dir;
}
