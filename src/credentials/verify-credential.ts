import { ProviderUnavailableError } from '../errors.js';
import type { CredentialIdentity } from '../generated/credential-tile.js';
import type { ProviderClient } from '../http/provider-client.js';
import type { Connector } from '../registry/connector.js';
import { getPointer } from '../registry/inline-refs.js';
import { redactSecrets } from '../http/redact.js';
import { terminalSafe } from '../text/terminal-safe.js';

/** Sends the manifest's verification request and keeps what it names as the identity. */
export async function verifyCredential(connector: Connector, client: ProviderClient): Promise<CredentialIdentity> {
  const { method, path, identity: pointers } = connector.manifest.verification;
  const response = await client.request({ method, path });
  const identity: CredentialIdentity = {};
  for (const [field, pointer] of Object.entries(pointers)) {
    const value = getPointer(response.body, pointer);
    // A provider may echo the token back: it must not reach the tile, the store or a terminal.
    if (typeof value === 'string') identity[field] = terminalSafe(redactSecrets(value, client.secrets()), 200);
    else if (typeof value === 'number' || typeof value === 'boolean') identity[field] = value;
    else {
      throw new ProviderUnavailableError(
        `${connector.manifest.title} answered ${method} ${path} without ${pointer} (${field}): is the base URL ${client.baseUrl} really ${connector.manifest.title}?`,
        { status: response.status, code: 'provider_unexpected' },
      );
    }
  }
  return identity;
}
