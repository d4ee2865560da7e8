import { getPointer } from '../text/json-pointer.js';

/**
 * "{/handles/0/handle}" reads the body, "{inbox_id}" a destination parameter. Undefined when a
 * placeholder does not resolve to a string or number, so the caller can try the next template.
 */
export function renderTemplate(
  template: string,
  body: unknown,
  params: Record<string, string>,
  encode: (s: string) => string = (s) => s,
): string | undefined {
  let missing = false;
  const out = template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    // Own parameters only: "{constructor}" must not find Object's.
    const value = name.startsWith('/') ? getPointer(body, name) : Object.hasOwn(params, name) ? params[name] : undefined;
    if ((typeof value !== 'string' || value === '') && typeof value !== 'number') {
      missing = true;
      return '';
    }
    return encode(String(value));
  });
  return missing ? undefined : out;
}

export function firstRendered(
  templates: readonly string[] | undefined,
  body: unknown,
  params: Record<string, string>,
  encode?: (s: string) => string,
): string | undefined {
  for (const template of templates ?? []) {
    const out = renderTemplate(template, body, params, encode);
    if (out !== undefined) return out;
  }
  return undefined;
}

/** Placeholders naming destination parameters (not record fields). */
export function templateParams(template: string): string[] {
  return [...template.matchAll(/\{([^}/][^}]*)\}/g)].map((m) => m[1]!);
}

/**
 * A record or parameter value inside a path: percent-encoded, and never a dot segment (".." would
 * walk up the path once the URL is parsed) nor text that is not well-formed Unicode.
 */
export function encodePathValue(value: string): string {
  if (value === '.' || value === '..' || /^(%2e|\.){1,2}$/i.test(value)) throw new Error(`"${value}" cannot be a path segment`);
  try {
    return encodeURIComponent(value);
  } catch {
    throw new Error('a value used in the path is not well-formed Unicode');
  }
}
