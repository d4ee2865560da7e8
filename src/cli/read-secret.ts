import { InputError } from '../errors.js';
import type { Connector } from '../registry/connector.js';

export interface SecretSource {
  secretStdin?: boolean;
  secretEnv?: string;
}

const STDIN_LIMIT = 64 * 1024;

/**
 * The secret never comes from argv (other users can read it there): stdin, an environment
 * variable, or prompts on a terminal (hidden for writeOnly fields). One field is read as it is;
 * several (Frontegg's Client ID and Secret Key) as a JSON object.
 */
export async function readSecrets(connector: Connector, source: SecretSource): Promise<Record<string, unknown>> {
  const fields = connector.authFields;
  const properties = connector.form.schema.properties as Record<string, { title?: string; default?: string }>;
  if (source.secretStdin && source.secretEnv) throw new InputError('give the secret one way: --secret-stdin or --secret-env, not both');
  let raw: string | undefined;
  if (source.secretStdin) raw = dropOneNewline(await readStdin());
  else if (source.secretEnv) {
    raw = process.env[source.secretEnv];
    if (raw === undefined)
      throw new InputError(`environment variable ${source.secretEnv} (from --secret-env) is not set`, { field: 'secretEnv' });
  }
  if (raw !== undefined) return fields.length === 1 ? { [fields[0]!]: raw } : parseObject(raw, fields);

  if (!process.stdin.isTTY) {
    const what = connector.secretFields.map((f) => properties[f]?.title ?? f).join(' / ');
    const how =
      fields.length === 1
        ? 'pipe it with --secret-stdin'
        : `pipe ${JSON.stringify(Object.fromEntries(fields.map((f) => [f, '...'])))} with --secret-stdin`;
    throw new InputError(`no ${what} given: ${how}, name an environment variable with --secret-env, or run in a terminal to be prompted`);
  }
  const [{ default: password }, { default: input }] = await Promise.all([import('@inquirer/password'), import('@inquirer/input')]);
  const values: Record<string, string> = {};
  for (const field of fields) {
    const message = `${properties[field]?.title ?? field}:`;
    const context = { output: process.stderr };
    const value = connector.secretFields.includes(field)
      ? await password({ message, mask: '*' }, context)
      : await input({ message, ...(properties[field]?.default ? { default: properties[field]!.default! } : {}) }, context);
    if (value !== '') values[field] = value;
  }
  return values;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > STDIN_LIMIT) throw new InputError(`standard input is over ${STDIN_LIMIT} bytes: that is not a secret`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** `echo token |` adds one newline; more than one is a sign of something else and is left for validation to name. */
function dropOneNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

function parseObject(raw: string, fields: readonly string[]): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Not quoting the input: it may be the secret itself.
    throw new InputError(`this connector takes several fields (${fields.join(', ')}): give them on stdin as one JSON object`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError(`the secret fields (${fields.join(', ')}) must come as one JSON object`);
  }
  return parsed as Record<string, unknown>;
}
