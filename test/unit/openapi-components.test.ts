import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type JsonSchemaFile, openApiComponents } from '../../src/server/openapi-components.js';
import { SCHEMAS_DIR } from '../../src/package-info.js';

// schemas/ as the OpenAPI document's components: what a client generator reads for the limits and
// shapes the server checks, so a reference must land inside the document and lose nothing on the way.

const text: JsonSchemaFile = {
  $id: 'https://credport.dev/schemas/text.schema.json',
  title: 'Text',
  definitions: { singleLine: { type: 'string', pattern: '^[^\\u0000]*$' } },
};
const fields: JsonSchemaFile = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://credport.dev/schemas/credential-fields.schema.json',
  title: 'CredentialFields',
  type: 'object',
  definitions: { name: { title: 'Credential Name', $ref: 'text.schema.json#/definitions/singleLine', minLength: 1, maxLength: 100 } },
  properties: { name: { $ref: '#/definitions/name' }, whole: { $ref: 'https://credport.dev/schemas/text.schema.json' } },
};

describe('openApiComponents', () => {
  it('makes each file and each of its definitions a component, with every $ref local to the document', () => {
    const components = openApiComponents([text, fields]);
    expect(Object.keys(components).sort()).toEqual(['CredentialFields', 'CredentialFields-name', 'Text', 'Text-singleLine']);
    expect(components.CredentialFields).toEqual({
      title: 'CredentialFields',
      type: 'object',
      properties: { name: { $ref: '#/components/schemas/CredentialFields-name' }, whole: { $ref: '#/components/schemas/Text' } },
    });
  });

  it('keeps the keywords beside a $ref: the limits the server checks are in the document', () => {
    expect(openApiComponents([text, fields])['CredentialFields-name']).toEqual({
      title: 'Credential Name',
      $ref: '#/components/schemas/Text-singleLine',
      minLength: 1,
      maxLength: 100,
    });
  });

  it('refuses a $ref that names no schema, naming it', () => {
    const broken = { ...fields, properties: { name: { $ref: 'nowhere.schema.json#/definitions/name' } } };
    expect(() => openApiComponents([text, broken])).toThrow('nowhere.schema.json#/definitions/name names no schema in schemas/');
  });

  it('refuses a draft-07 keyword whose meaning OpenAPI 3.1 changed, rather than serve it wrong', () => {
    expect(() => openApiComponents([{ ...text, properties: { pair: { type: 'array', items: [{ type: 'string' }] } } }])).toThrow(
      '"items" means something else',
    );
  });

  it('takes every file of schemas/', () => {
    const files = readdirSync(SCHEMAS_DIR)
      .filter((f) => f.endsWith('.schema.json'))
      .map((f) => JSON.parse(readFileSync(join(SCHEMAS_DIR, f), 'utf8')) as JsonSchemaFile);
    expect(Object.keys(openApiComponents(files))).toEqual(expect.arrayContaining(files.map((f) => f.title)));
  });
});
