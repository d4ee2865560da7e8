// swagger-parser's validator on an OpenAPI document file, as a child process: the package (CommonJS
// requiring an ES module) loads in Node but not in Jest's module runtime. The document is validated
// as an object: a relative $ref would be looked for in the working directory, which the caller
// makes an empty folder, so every $ref must resolve inside the document.
// Prints what swagger-parser says and exits 1 when it refuses the document.
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';

try {
  await SwaggerParser.validate(JSON.parse(readFileSync(process.argv[2], 'utf8')));
  console.log('valid');
} catch (error) {
  console.log(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
