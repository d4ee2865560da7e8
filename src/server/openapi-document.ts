import { type JsonSchemaFile, openApiComponents } from './openapi-components.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const COMPONENT_REF = /^#\/components\/schemas\/([^/]+)/;

/**
 * The last step of the served document (@fastify/swagger's `transformObject`): its schema
 * components are schemas/ as they are (see openapi-components.ts), and only those an operation
 * reaches, so the document resolves inside itself and declares nothing no route uses. `more` adds
 * components, or puts others in place of schemas/'s of the same name (openapi-connector-bodies.ts).
 */
export function documentWithComponents(
  files: readonly JsonSchemaFile[],
  more: (components: Record<string, Json>) => Record<string, Json> = () => ({}),
): <D extends object>(document: D) => D {
  // Built once, when the server is made: a schema that cannot be served stops it there, not at the first GET.
  const base = openApiComponents(files);
  const all = { ...base, ...more(base) };
  return <D extends object>(document: D): D => {
    const { components = {}, ...rest } = document as { components?: object };
    const used = reachable(rest as Json, all);
    const schemas = Object.fromEntries(Object.entries(all).filter(([name]) => used.has(name)));
    return { ...rest, components: { ...components, schemas } } as D;
  };
}

/** The components `from` refers to, and those they refer to in turn. */
function reachable(from: Json, components: Record<string, Json>): Set<string> {
  const seen = new Set<string>();
  const queue = refsIn(from);
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (seen.has(name)) continue;
    if (!Object.hasOwn(components, name)) throw new Error(`the OpenAPI document refers to ${name}, which no schema in schemas/ makes`);
    seen.add(name);
    queue.push(...refsIn(components[name]!));
  }
  return seen;
}

function refsIn(value: Json): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => {
    const name = key === '$ref' && typeof inner === 'string' ? COMPONENT_REF.exec(inner)?.[1] : undefined;
    return name !== undefined ? [name] : refsIn(inner);
  });
}
