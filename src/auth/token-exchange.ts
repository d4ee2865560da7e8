import got from 'got';
import type { ErrorEnvelope, TokenExchangeConfig } from '../generated/connector-manifest.js';
import { describeHttpError } from '../http/describe-http-error.js';
import { ProviderUnavailableError } from '../errors.js';
import { getPointer } from '../registry/inline-refs.js';
import type { AuthStrategy } from './auth-strategy.js';
import { createBearerAuth } from './bearer.js';

export interface ExchangeContext {
  baseUrl: string;
  provider: string;
  envelope: ErrorEnvelope;
  timeoutMs: number;
}

const MAX_MARGIN_MS = 60_000;

/**
 * A client id + secret exchanged for a short-lived access token (Frontegg's API tokens). The token
 * is cached until shortly before it expires; one exchange runs at a time however many requests
 * wait for it; the secret goes only in the exchange body, to the credential's own origin.
 */
export function createTokenExchangeAuth(config: TokenExchangeConfig, values: Readonly<Record<string, string>>, context: ExchangeContext, secretField: string): AuthStrategy {
  const secret = values[secretField] ?? '';
  const issued: string[] = [];
  let current: { header: string; expiresAt: number } | undefined;
  let inflight: Promise<string> | undefined;
  const url = new URL(config.path, new URL(context.baseUrl).origin);
  const body = Object.fromEntries(Object.entries(config.body).map(([key, template]) => [key, template.replace(/\{([^}]+)\}/g, (_m, field: string) => values[field] ?? '')]));

  async function exchange(): Promise<string> {
    let answer: unknown;
    try {
      answer = await got.post(url, { json: body, timeout: { request: context.timeoutMs }, retry: { limit: 1 }, responseType: 'json', followRedirect: false }).json();
    } catch (error) {
      throw describeHttpError(error, { provider: context.provider, envelope: context.envelope, method: 'POST', url, secrets: [secret] });
    }
    const token = config.accessToken.map((p) => getPointer(answer, p)).find((v) => typeof v === 'string' && v !== '') as string | undefined;
    const seconds = config.expiresIn.map((p) => getPointer(answer, p)).find((v) => typeof v === 'number' && v > 0) as number | undefined;
    if (!token || seconds === undefined) {
      throw new ProviderUnavailableError(`${context.provider} answered the token exchange without an access token and its lifetime`, { code: 'provider_unexpected' });
    }
    const header = await createBearerAuth(token).authorization(); // refuses a token that could smuggle a header
    issued.push(token);
    if (issued.length > 8) issued.shift();
    const lifetime = seconds * 1000;
    // Renew a little early: a tenth of the lifetime, at most a minute.
    current = { header, expiresAt: Date.now() + lifetime - Math.min(MAX_MARGIN_MS, lifetime / 10) };
    return header;
  }

  return {
    async authorization() {
      if (current && Date.now() < current.expiresAt) return current.header;
      inflight ??= exchange().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
    secrets: () => [secret, ...issued],
    invalidate(header: string) {
      if (current?.header === header) current = undefined;
    },
    expiresAt: () => current?.expiresAt,
  };
}
