// Extracts the request bodies the Front connector writes from Front's official OpenAPI
// description (connectors/front/openapi.json) into draft-07 schemas under
// connectors/front/requests/, which the manifest names and the destination validates against.
// `--check` fails when the committed files differ from a fresh extraction.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
// Front's Core API description as Front publishes it (front-api-specs core-api/core-api.json, commit f8f5386), vendored so the check needs no other checkout.
const spec = join(root, 'connectors/front/openapi.json');
const outDir = join(root, 'connectors/front/requests');
const check = process.argv.includes('--check');

const BODIES: Record<string, string> = {
  'create-contact': 'CreateContact',
  'create-account': 'Account',
  'create-tag': 'CreateTag',
  'import-message': 'ImportMessage',
};
// Required fields the operation adds on top of the component (POST /accounts requires name).
const EXTRA_REQUIRED: Record<string, string[]> = { 'create-account': ['name'] };
// Annotations and OpenAPI-only keywords that a draft-07 validator in strict mode would refuse.
const DROP = new Set(['example', 'examples', 'deprecated', 'xml', 'externalDocs', 'discriminator']);

type Json = { [key: string]: unknown };

const openapi = JSON.parse(await readFile(spec, 'utf8')) as { components: { schemas: Record<string, Json> } };

function convert(node: unknown, seen: string[]): unknown {
  if (Array.isArray(node)) return node.map((n) => convert(n, seen));
  if (node === null || typeof node !== 'object') return node;
  const object = node as Json;
  if (typeof object.$ref === 'string') {
    const name = object.$ref.replace('#/components/schemas/', '');
    if (seen.includes(name)) throw new Error(`recursive schema ${name}`);
    const { $ref: _ref, ...siblings } = object;
    return { ...(convert(openapi.components.schemas[name], [...seen, name]) as Json), ...(convert(siblings, seen) as Json) };
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(object)) {
    if (DROP.has(key)) continue;
    if (key === 'format' && value === 'binary') continue; // multipart uploads; a JSON body carries none
    out[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, convert(v, seen)]))
        : convert(value, seen);
  }
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
  }
  if (Array.isArray(out.allOf) && out.allOf.every((part) => (part as Json).properties || (part as Json).type === 'object')) {
    const parts = out.allOf as Json[];
    delete out.allOf;
    out.type = 'object';
    out.properties = Object.assign({}, ...parts.map((p) => p.properties ?? {}), out.properties ?? {});
    const required = [...new Set([...parts.flatMap((p) => (p.required as string[]) ?? []), ...((out.required as string[]) ?? [])])];
    if (required.length > 0) out.required = required;
  }
  return out;
}

await mkdir(outDir, { recursive: true });
const stale: string[] = [];
for (const [file, component] of Object.entries(BODIES)) {
  const body = convert(openapi.components.schemas[component], [component]) as Json;
  const required = [...new Set([...((body.required as string[]) ?? []), ...(EXTRA_REQUIRED[file] ?? [])])];
  const schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://credport.dev/connectors/front/requests/${file}.schema.json`,
    title: component,
    description:
      `Front's ${component} request body, extracted from Front's OpenAPI description by ` +
      `src/dev/extract-front-requests.ts. Unknown top-level fields are refused: Front would drop them silently.`,
    ...body,
    type: 'object',
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  const path = join(outDir, `${file}.schema.json`);
  if (check) {
    if ((await readFile(path, 'utf8').catch(() => '')) !== text) stale.push(path);
  } else await writeFile(path, text);
}
if (stale.length > 0) {
  console.error(`request schemas are stale: ${stale.join(', ')}\nrun \`npm run extract:front\``);
  process.exit(1);
}
console.log(check ? 'Front request schemas match the spec' : `extracted ${Object.keys(BODIES).length} Front request schemas`);
