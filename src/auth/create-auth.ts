import type { AuthStrategyConfig } from '../generated/connector-manifest.js';
import type { AuthStrategy } from './auth-strategy.js';
import { createBearerAuth } from './bearer.js';

export type SecretValues = Readonly<Record<string, string>>;

/** The strategy a manifest names, over the credential's decrypted secret fields. */
export function createAuth(config: AuthStrategyConfig, secrets: SecretValues): AuthStrategy {
  switch (config.strategy) {
    case 'bearer':
      return createBearerAuth(secrets[config.secret] ?? '');
  }
}
