import type { ConnectorManifest } from '../generated/connector-manifest.js';
import type { AuthStrategy } from './auth-strategy.js';
import { createBearerAuth } from './bearer.js';
import { createTokenExchangeAuth, type ExchangeContext } from './token-exchange.js';

export type SecretValues = Readonly<Record<string, string>>;

/** The strategy a manifest names, over the credential's decrypted auth fields. */
export function createAuth(
  manifest: ConnectorManifest,
  values: SecretValues,
  baseUrl: string,
  timeoutMs: number,
  route?: ExchangeContext['route'],
): AuthStrategy {
  const config = manifest.auth;
  if (config.strategy === 'token-exchange') {
    if (!config.exchange) throw new Error(`connector ${manifest.id}: token-exchange needs auth.exchange`);
    return createTokenExchangeAuth(
      config.exchange,
      values,
      { baseUrl, provider: manifest.title, envelope: manifest.errors, timeoutMs, ...(route ? { route } : {}) },
      config.secret,
    );
  }
  return createBearerAuth(values[config.secret] ?? '');
}
