import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { SCHEMAS_DIR } from '../../src/package-info.js';
import { createAjv } from '../../src/registry/create-ajv.js';
import { requestAjv } from '../../src/registry/request-schemas.js';

// The request schemas are added to their ajv without a meta-schema check (it cost every `credentials
// add` about 40 ms): so here every file of schemas/ is checked against its meta-schema, and compiles.
const files = readdirSync(SCHEMAS_DIR).filter((f) => f.endsWith('.schema.json'));

describe('schemas/', () => {
  it.each(files)('%s is a valid schema of its draft', (file) => {
    const ajv = createAjv();
    const schema = JSON.parse(readFileSync(join(SCHEMAS_DIR, file), 'utf8')) as object;
    expect([file, ajv.validateSchema(schema), ajv.errorsText(ajv.errors)]).toEqual([file, true, 'No errors']);
  });

  it.each(files.filter((f) => f.endsWith('-request.schema.json')))(
    '%s compiles in the request validator (every $ref resolves, strict mode)',
    (file) => {
      const id = (JSON.parse(readFileSync(join(SCHEMAS_DIR, file), 'utf8')) as { $id: string }).$id;
      expect(typeof requestAjv().getSchema(id)).toBe('function');
    },
  );
});
