import type { Connector } from '../registry/connector.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const COMPONENTS = '#/components/schemas/';
/** Keywords of a draft-07 file that have no place inside a component (its identity, its own definitions, inlined already). */
const FILE_KEYWORDS = ['$schema', '$id', 'definitions'];

/**
 * The bodies of createCredential and rotateCredential, typed per connector, from the connectors the
 * registry loaded when the server started (a host's own connector folder included): a create body is
 * a `oneOf` discriminated by `connector`, whose `values` is that connector's credential schema; a
 * rotate body's `secrets` is one of the connectors' secret fields. Only the document says this: the
 * routes still validate with credential-create-request and credential-rotate-request, then the
 * connector's own schema, so the server refuses exactly what it refused before, in the same words.
 *
 * The components it returns take the place of schemas/'s CredentialCreateRequest and
 * CredentialRotateRequest (`base`, openapi-components.ts), whose wording and fields they keep, and
 * which the routes' bodies already name.
 */
export function connectorBodies(connectors: readonly Connector[], base: Record<string, Json>): Record<string, Json> {
  const create = base.CredentialCreateRequest as JsonObject;
  const rotate = base.CredentialRotateRequest as JsonObject;
  const createProperties = create.properties as JsonObject;
  const rotateProperties = rotate.properties as JsonObject;
  const components: Record<string, Json> = {};
  const mapping: Record<string, string> = {};
  for (const connector of connectors) {
    const { id } = connector;
    const values = withoutFileKeywords(connector.form.schema as JsonObject);
    const properties = values.properties as JsonObject;
    components[`CredentialValues-${id}`] = values;
    components[`CredentialSecrets-${id}`] = {
      title: `${connector.manifest.title} secrets`,
      description: `What POST /credentials/{id}/rotate takes for a ${connector.manifest.title} credential: its fields other than name and description.`,
      type: 'object',
      properties: Object.fromEntries(connector.authFields.map((field) => [field, properties[field]!])),
      additionalProperties: false,
    };
    components[`CredentialCreateRequest-${id}`] = {
      ...create,
      title: `${connector.manifest.title} credential create request`,
      properties: {
        ...createProperties,
        connector: { type: 'string', const: id },
        values: { description: (createProperties.values as JsonObject).description!, $ref: `${COMPONENTS}CredentialValues-${id}` },
      },
    };
    mapping[id] = `${COMPONENTS}CredentialCreateRequest-${id}`;
  }
  const secrets = connectors.map(({ id }) => ({ $ref: `${COMPONENTS}CredentialSecrets-${id}` }));
  // Several connectors may take the same fields (Front's and Frontline's apiKey): any of them, not exactly one.
  components.CredentialRotateRequest = {
    ...rotate,
    properties: { ...rotateProperties, secrets: { description: (rotateProperties.secrets as JsonObject).description!, anyOf: secrets } },
  };
  // Both in place of schemas/'s, under the same names.
  components.CredentialCreateRequest = {
    title: create.title!,
    description: create.description!,
    oneOf: Object.values(mapping).map(($ref) => ({ $ref })),
    discriminator: { propertyName: 'connector', mapping },
  };
  return components;
}

function withoutFileKeywords(schema: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(schema).filter(([key]) => !FILE_KEYWORDS.includes(key)));
}
