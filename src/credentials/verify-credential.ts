import { ProviderUnavailableError } from '../errors.js';
import type { CredentialIdentity } from '../generated/credential-tile.js';
import type { ProviderClient } from '../http/provider-client.js';
import type { Connector } from '../registry/connector.js';
import { getPointer } from '../text/json-pointer.js';
import { redact } from '../text/redact.js';
import { terminalSafe } from '../text/terminal-safe.js';

/**
 * Proves the secret: the manifest's verification request (its answer gives the identity), or a
 * token exchange (the tile then shows the public fields it names and the token's expiry).
 */
export async function verifyCredential(
  connector: Connector,
  client: ProviderClient,
  values: Readonly<Record<string, string>>,
): Promise<CredentialIdentity> {
  const {
    via = 'request',
    method = 'GET',
    path = '/',
    identity: required,
    optionalIdentity = {},
    keyType,
    fromFields = [],
  } = connector.manifest.verification;
  if (via === 'token-exchange') {
    const expiresAt = await client.authorizeNow();
    const identity: CredentialIdentity = {};
    for (const field of fromFields)
      if (values[field] !== undefined && !connector.secretFields.includes(field)) identity[field] = values[field]!;
    if (expiresAt !== undefined) identity.tokenExpiresAt = new Date(expiresAt).toISOString();
    return identity;
  }
  const response = await client.request({ method, path });
  const identity: CredentialIdentity = {};
  // A provider may echo the token back: it must not reach the tile, the store or a terminal.
  const keep = (value: unknown): string | number | boolean | undefined =>
    typeof value === 'string'
      ? terminalSafe(redact(value, client.secrets()), 200)
      : typeof value === 'number' || typeof value === 'boolean'
        ? value
        : undefined;
  for (const [field, pointer] of Object.entries(required)) {
    const value = keep(getPointer(response.body, pointer));
    if (value === undefined) {
      throw new ProviderUnavailableError(
        `${connector.manifest.title} answered ${method} ${path} without ${pointer} (${field}): is the base URL ${client.baseUrl} ` +
          `really ${connector.manifest.title}?`,
        { status: response.status, code: 'provider_unexpected' },
      );
    }
    identity[field] = value;
  }
  for (const [field, pointer] of Object.entries(optionalIdentity)) {
    const value = keep(getPointer(response.body, pointer));
    if (value !== undefined) identity[field] = value;
  }
  if (keyType) {
    const value = getPointer(response.body, keyType.pointer);
    identity[keyType.field] = value === null || value === undefined ? keyType.absent : keyType.present;
  }
  return identity;
}
