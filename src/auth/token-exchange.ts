import got from 'got';
import type { ErrorEnvelope, TokenExchangeConfig } from '../generated/connector-manifest.js';
import { describeHttpError } from '../http/describe-http-error.js';
import { ProviderUnavailableError } from '../errors.js';
import { getPointer } from '../text/json-pointer.js';
import type { GuardedAgents } from '../http/outbound-policy.js';
import type { AuthStrategy } from './auth-strategy.js';
import { createBearerAuth } from './bearer.js';

export interface ExchangeContext {
  baseUrl: string;
  provider: string;
  envelope: ErrorEnvelope;
  timeoutMs: number;
  /** The outbound policy's verdict on the exchange URL (see ClientExtras.route); absent: the operator's reach. */
  route?: (url: URL) => GuardedAgents | undefined;
}

const MAX_MARGIN_MS = 60_000;
const MIN_LIFETIME_S = 5;
const MAX_LIFETIME_S = 86_400;

/**
 * A client id + secret exchanged for a short-lived access token (Frontegg's API tokens). The token
 * is cached until shortly before it expires; one exchange runs at a time however many requests
 * wait for it; the secret goes only in the exchange body, to the credential's own origin.
 */
export function createTokenExchangeAuth(
  config: TokenExchangeConfig,
  values: Readonly<Record<string, string>>,
  context: ExchangeContext,
  secretField: string,
): AuthStrategy {
  const secret = values[secretField] ?? '';
  const issued: string[] = [];
  let current: { header: string; expiresAt: number } | undefined;
  let inflight: Promise<string> | undefined;
  const url = new URL(config.path, new URL(context.baseUrl).origin);
  const body = Object.fromEntries(
    Object.entries(config.body).map(([key, template]) => [
      key,
      template.replace(/\{([^}]+)\}/g, (_m, field: string) => values[field] ?? ''),
    ]),
  );

  async function exchange(): Promise<string> {
    let answer: unknown;
    try {
      // One retry of a 5xx or a network error (got retries no POST unless told: an exchange only
      // issues a token, so asking twice is safe); a redirect is never followed, the secret is in the body.
      const agent = context.route?.(url) ?? {};
      answer = await got
        .post(url, {
          agent,
          json: body,
          timeout: { request: context.timeoutMs },
          retry: { limit: 1, methods: ['POST'] },
          responseType: 'json',
          followRedirect: false,
        })
        .json();
    } catch (error) {
      throw describeHttpError(error, { provider: context.provider, envelope: context.envelope, method: 'POST', url, secrets: [secret] });
    }
    const token = config.accessToken.map((p) => getPointer(answer, p)).find((v) => typeof v === 'string' && v !== '') as string | undefined;
    const announced = config.expiresIn
      .map((p) => getPointer(answer, p))
      .find((v) => typeof v === 'number' && Number.isFinite(v) && v > 0) as number | undefined;
    // A token that could smuggle a header (CR/LF, spaces) is the provider's fault, not the user's input.
    if (!token || announced === undefined || !/^[\x21-\x7E]+$/.test(token)) {
      throw new ProviderUnavailableError(`${context.provider} answered the token exchange without a usable access token and lifetime`, {
        code: 'provider_unexpected',
      });
    }
    // Between 5 seconds (not one exchange per request) and a day (no date out of range).
    const seconds = Math.min(MAX_LIFETIME_S, Math.max(MIN_LIFETIME_S, announced));
    const header = await createBearerAuth(token).authorization();
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
