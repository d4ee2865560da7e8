/**
 * schemas/ (draft-07 files, each with an $id, referring to each other by relative URI) as the
 * components of an OpenAPI 3.1 document, which must resolve inside itself: the document is served
 * alone, so `text.schema.json#/definitions/singleLine` would point at nothing a client can fetch.
 *
 * Each file becomes the component named by its title, each of its `definitions` the component
 * `<title>-<name>` (the names @fastify/swagger gives the routes' own references), and every `$ref`
 * a local `#/components/schemas/...` one. Keywords beside a `$ref` are kept: OpenAPI 3.1 schemas
 * are JSON Schema 2020-12, where they apply, and they carry the limits the server checks
 * (`minLength`, `maxLength`, a title), which @fastify/swagger's own conversion drops.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonSchemaFile = { [key: string]: Json };

const COMPONENTS = '#/components/schemas/';
/** draft-07 keywords whose meaning changed in 2020-12: none of schemas/ uses them, and one that did would be served wrong. */
const CHANGED_KEYWORDS = ['dependencies', 'additionalItems', '$recursiveRef'];

export function openApiComponents(files: readonly JsonSchemaFile[]): Record<string, Json> {
  const byId = new Map<string, JsonSchemaFile>();
  for (const file of files) {
    if (typeof file.$id !== 'string' || typeof file.title !== 'string')
      throw new Error('every schema in schemas/ needs an $id and a title');
    byId.set(withoutFragment(file.$id), file);
  }
  const components: Record<string, Json> = {};
  const add = (name: string, schema: Json, file: JsonSchemaFile) => {
    if (Object.hasOwn(components, name)) throw new Error(`two schemas in schemas/ make the component ${name}`);
    components[name] = convert(schema, file, byId);
  };
  for (const file of files) {
    const { definitions, ...schema } = file;
    add(file.title as string, schema, file);
    if (isObject(definitions)) for (const [name, definition] of Object.entries(definitions)) add(`${file.title}-${name}`, definition, file);
  }
  return components;
}

function convert(schema: Json, file: JsonSchemaFile, byId: Map<string, JsonSchemaFile>): Json {
  if (Array.isArray(schema)) return schema.map((item) => convert(item, file, byId));
  if (!isObject(schema)) return schema;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$id' || key === '$schema') continue;
    if (CHANGED_KEYWORDS.includes(key) || (key === 'items' && Array.isArray(value)))
      throw new Error(`${file.$id}: "${key}" means something else in OpenAPI 3.1 (JSON Schema 2020-12)`);
    if (key === 'definitions') throw new Error(`${file.$id}: definitions belong at the top of a schema file`);
    out[key] = key === '$ref' && typeof value === 'string' ? localRef(value, file, byId) : convert(value, file, byId);
  }
  return out;
}

/** A reference resolved against the file's $id, as the document's own `#/components/schemas/...`. */
function localRef(ref: string, file: JsonSchemaFile, byId: Map<string, JsonSchemaFile>): string {
  const url = new URL(ref, file.$id as string);
  const target = byId.get(withoutFragment(url.href));
  if (!target) throw new Error(`${file.$id}: $ref ${ref} names no schema in schemas/`);
  const pointer = url.hash.slice(1);
  const definition = /^\/definitions\/([^/]+)(.*)$/.exec(pointer);
  if (definition) return `${COMPONENTS}${target.title}-${definition[1]}${definition[2]}`;
  return `${COMPONENTS}${target.title}${pointer}`;
}

function withoutFragment(uri: string): string {
  return uri.split('#')[0]!;
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
