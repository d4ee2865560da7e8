// Generates src/generated/credport-api.d.ts from the OpenAPI document a running `credport serve`
// serves (CREDPORT_URL, CREDPORT_API_TOKEN): the document is made at start from the server's
// connectors, so a host's own connector folder is typed too.
import { mkdir, writeFile } from 'node:fs/promises';
import openapiTS, { astToString } from 'openapi-typescript';

const url = process.env.CREDPORT_URL ?? 'http://127.0.0.1:8737';
const token = process.env.CREDPORT_API_TOKEN;
if (!token) throw new Error('set CREDPORT_API_TOKEN (the api-token file beside the store)');

const answer = await fetch(`${url}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${token}` } });
if (!answer.ok) throw new Error(`GET /api/v1/openapi.json answered ${answer.status}`);
const ast = await openapiTS(await answer.json());
await mkdir(new URL('src/generated/', import.meta.url), { recursive: true });
await writeFile(new URL('src/generated/credport-api.d.ts', import.meta.url), astToString(ast));
console.log('generated src/generated/credport-api.d.ts');
