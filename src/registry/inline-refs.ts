// Form renderers (react-jsonschema-form and friends) read one self-contained schema, while
// schemas/ shares definitions across files. This inlines every $ref against the schemas we know.
import { getPointer } from '../text/json-pointer.js';

export type JsonObject = { [key: string]: unknown };

export function inlineRefs(schema: JsonObject, known: Map<string, JsonObject>): JsonObject {
  const baseId = typeof schema.$id === 'string' ? schema.$id : 'https://credport.invalid/';
  return walk(schema, baseId, known, schema, 0) as JsonObject;
}

function walk(node: unknown, baseId: string, known: Map<string, JsonObject>, root: JsonObject, depth: number): unknown {
  if (depth > 32) throw new Error('schema $ref nesting deeper than 32: is there a cycle?');
  if (Array.isArray(node)) return node.map((item) => walk(item, baseId, known, root, depth + 1));
  if (node === null || typeof node !== 'object') return node;
  const object = node as JsonObject;
  if (typeof object.$ref === 'string') {
    const { target, targetRoot, targetBase } = resolve(object.$ref, baseId, known, root);
    const { $ref: _ref, ...siblings } = object;
    return { ...(walk(target, targetBase, known, targetRoot, depth + 1) as JsonObject), ...siblings };
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(object)) out[key] = walk(value, baseId, known, root, depth + 1);
  return out;
}

function resolve(ref: string, baseId: string, known: Map<string, JsonObject>, root: JsonObject) {
  const url = new URL(ref, baseId);
  const pointer = decodeURIComponent(url.hash.replace(/^#/, ''));
  url.hash = '';
  const documentId = url.toString();
  const targetRoot = documentId === baseId.replace(/#.*$/, '') ? root : known.get(documentId);
  if (!targetRoot) throw new Error(`unresolvable $ref "${ref}" (no schema with $id ${documentId})`);
  const target = getPointer(targetRoot, pointer);
  if (target === undefined) throw new Error(`unresolvable $ref "${ref}" (nothing at ${pointer || '/'})`);
  return { target, targetRoot, targetBase: documentId };
}
