// The library API a host embeds. Everything here is safe to hand to UI code: no export returns a secret.
export { openCredport, loadRegistry, type Credport, type CredportOptions } from './open-credport.js';
export {
  CredentialService,
  type CreateCredentialInput,
  type RotateCredentialInput,
  type UpdateCredentialInput,
} from './credentials/credential-service.js';
export { ConnectorRegistry, type RegistryOptions } from './registry/connector-registry.js';
export type { Connector, CredentialForm } from './registry/connector.js';
export { ManifestError } from './registry/load-connector.js';
export type { ProviderClient, ProviderRequest, ProviderResponse, HttpSettings } from './http/provider-client.js';
export {
  CredportError,
  InputError,
  NotFoundError,
  ProviderRejectedError,
  ProviderUnavailableError,
  OriginRefusedError,
  StoreError,
  ExitCode,
  type ErrorDetails,
} from './errors.js';
export type { CredentialTile, CredentialStatus, CredentialIdentity } from './generated/credential-tile.js';
export type { FrontCredential } from './generated/front-credential.js';
export type { ConnectorManifest } from './generated/connector-manifest.js';
