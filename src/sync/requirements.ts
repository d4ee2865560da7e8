import { InputError } from '../errors.js';
import type { CredentialRequirement } from '../generated/connector-manifest.js';
import type { CredentialTile } from '../generated/credential-tile.js';

/**
 * Refuses, before any request, a stream or operation the credential cannot serve (a Frontline
 * GENERAL key on a USER-only endpoint answers 401, which reads as "my key is broken").
 */
export function checkRequirement(requires: CredentialRequirement | undefined, tile: CredentialTile, what: string): void {
  if (!requires) return;
  for (const [field, wanted] of Object.entries(requires.identity)) {
    const has = tile.identity?.[field];
    if (has !== wanted) {
      throw new InputError(
        `${what} needs a credential whose ${field} is ${wanted}, but credential ${tile.id} ("${tile.name}") has ` +
          `${has === undefined ? `no ${field} (verify it with: credport credentials test ${tile.id})` : String(has)}: use ${requires.help}`,
        { field: 'credentialId', code: 'credential_unsuitable' },
      );
    }
  }
}
