import { InputError } from '../errors.js';
import type { Connector } from '../registry/connector.js';

export interface SecretSource {
  secretStdin?: boolean;
  secretEnv?: string;
}

const STDIN_LIMIT = 64 * 1024;

/**
 * The secret never comes from argv (other users can read it there): stdin, an environment
 * variable, or a hidden prompt on a terminal. One secret field is read as it is; several as a JSON object.
 */
export async function readSecrets(connector: Connector, source: SecretSource): Promise<Record<string, unknown>> {
  const fields = connector.secretFields;
  const properties = connector.form.schema.properties as Record<string, { title?: string }>;
  if (source.secretStdin && source.secretEnv) throw new InputError('give the secret one way: --secret-stdin or --secret-env, not both');
  let raw: string | undefined;
  if (source.secretStdin) raw = dropOneNewline(await readStdin());
  else if (source.secretEnv) {
    raw = process.env[source.secretEnv];
    if (raw === undefined) throw new InputError(`environment variable ${source.secretEnv} (from --secret-env) is not set`, { field: 'secretEnv' });
  }
  if (raw !== undefined) return fields.length === 1 ? { [fields[0]!]: raw } : parseObject(raw, fields);

  if (!process.stdin.isTTY) {
    throw new InputError(
      `no ${fields.map((f) => properties[f]?.title ?? f).join(' / ')} given: pipe it with --secret-stdin, name an environment variable with --secret-env, or run in a terminal to be prompted`,
    );
  }
  const { default: password } = await import('@inquirer/password');
  const values: Record<string, string> = {};
  for (const field of fields) {
    values[field] = await password({ message: `${properties[field]?.title ?? field}:`, mask: '*' }, { output: process.stderr });
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
    throw new InputError(`this connector has several secret fields (${fields.join(', ')}): give them on stdin as one JSON object`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError(`the secret fields (${fields.join(', ')}) must come as one JSON object`);
  }
  return parsed as Record<string, unknown>;
}
