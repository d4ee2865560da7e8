// Public fields (name, description, any field not writeOnly, the base URL) are stored and shown in
// the clear on every tile. A secret pasted into one of them would escape the seal, so it is refused
// before anything is sent or saved. Messages name the field and never quote what it holds.
import { InputError } from '../errors.js';
import type { Connector } from '../registry/connector.js';

/** Secrets shorter than this are looked for only as a whole field: inside text they would match ordinary words ("test"). */
export const MIN_SECRET_LENGTH = 8;
/** This many consecutive characters of a secret in a public field count as the secret: a partial paste leaks it too. */
export const SECRET_FRAGMENT_LENGTH = 16;

const CODE = 'secret_in_public_field';

/**
 * Refuses a public field that holds one of the secrets being saved (or a stretch of
 * SECRET_FRAGMENT_LENGTH characters of it). `values` may hold secret and public fields together:
 * the connector's writeOnly fields are the secrets, every other string is a public field.
 */
export function refuseSecretsInPublicFields(
  connector: Connector,
  values: Readonly<Record<string, unknown>>,
  secrets: Readonly<Record<string, unknown>>,
): void {
  const found = Object.entries(secrets).filter(
    ([key, value]) => connector.secretFields.includes(key) && typeof value === 'string' && value !== '',
  );
  for (const [field, text] of publicFields(connector, values)) {
    for (const [secretField, secret] of found) {
      if (holdsSecret(text, secret as string)) {
        throw new InputError(
          `${label(connector, field)} contains the ${title(connector, secretField)} (or part of it): public fields are stored and ` +
            `shown in the clear, so a secret must not go there`,
          {
            field,
            code: CODE,
          },
        );
      }
    }
  }
}

/** Refuses a public field holding text of the connector's secret shape (Front: a JWT), when its manifest gives one. */
export function refuseSecretShapeInPublicFields(connector: Connector, values: Readonly<Record<string, unknown>>): void {
  const shape = connector.secretShape;
  if (!shape) return;
  for (const [field, text] of publicFields(connector, values)) {
    if (shape.pattern.test(text)) {
      throw new InputError(
        `${label(connector, field)} contains text shaped like ${shape.label}: public fields are stored and shown in the clear, so ` +
          `a secret must not go there`,
        {
          field,
          code: CODE,
        },
      );
    }
  }
}

/** Exact, case-sensitive: a secret is matched as typed. */
export function holdsSecret(text: string, secret: string): boolean {
  if (secret.length < MIN_SECRET_LENGTH) return text.trim() === secret;
  if (secret.length < SECRET_FRAGMENT_LENGTH) return text.includes(secret);
  if (text.length < SECRET_FRAGMENT_LENGTH) return false;
  // Every stretch of the secret, then every stretch of the text looked up: linear in both lengths.
  const stretches = new Set<string>();
  for (let i = 0; i + SECRET_FRAGMENT_LENGTH <= secret.length; i++) stretches.add(secret.slice(i, i + SECRET_FRAGMENT_LENGTH));
  for (let i = 0; i + SECRET_FRAGMENT_LENGTH <= text.length; i++) if (stretches.has(text.slice(i, i + SECRET_FRAGMENT_LENGTH))) return true;
  return false;
}

function publicFields(connector: Connector, values: Readonly<Record<string, unknown>>): [string, string][] {
  return Object.entries(values).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string' && !connector.secretFields.includes(entry[0]),
  );
}

function label(connector: Connector, field: string): string {
  const properties = connector.form.schema.properties as Record<string, { title?: unknown }>;
  const titled = Object.hasOwn(properties, field) ? properties[field]?.title : undefined;
  if (typeof titled === 'string') return `${titled} (${field})`;
  return field === 'baseUrl' ? 'base URL (baseUrl)' : `"${field}"`;
}

function title(connector: Connector, field: string): string {
  const properties = connector.form.schema.properties as Record<string, { title?: unknown }>;
  const titled = Object.hasOwn(properties, field) ? properties[field]?.title : undefined;
  return typeof titled === 'string' ? titled : 'secret';
}
