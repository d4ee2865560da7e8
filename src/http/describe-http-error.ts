import { HTTPError, ParseError, RequestError, TimeoutError } from 'got';
import { CredportError, ProviderRejectedError, ProviderUnavailableError } from '../errors.js';
import type { ErrorEnvelope } from '../generated/connector-manifest.js';
import { getPointer } from '../text/json-pointer.js';
import { printable } from '../text/printable.js';
import { redact } from '../text/redact.js';
import { terminalSafe } from '../text/terminal-safe.js';

export interface RequestContext {
  provider: string;
  envelope: ErrorEnvelope;
  method: string;
  url: URL;
  secrets: readonly string[];
}

/**
 * Replaces whatever got threw with a credport error that carries only what is safe to print:
 * got's own errors hold the request options, headers included, as enumerable properties.
 */
export function describeHttpError(error: unknown, context: RequestContext): CredportError {
  if (error instanceof CredportError) return error;
  if (error instanceof RequestError && error.cause instanceof CredportError) return error.cause;
  const what = `${context.method} ${context.url.pathname}`;
  const clean = (text: string) => terminalSafe(redact(text, context.secrets));

  if (error instanceof HTTPError) {
    const status = error.response.statusCode;
    const said = providerSays(error.response.body, context.envelope);
    const answer = clean(said ? `${status} ${said}` : `${status} ${error.response.statusMessage ?? ''}`.trim());
    if (status === 401 || status === 403) {
      const said = `${context.provider} rejected the credential: ${answer}`;
      return new ProviderRejectedError(`${said} (${what})`, status, said);
    }
    return new ProviderUnavailableError(`${context.provider} answered ${what} with ${answer}`, { status });
  }
  if (error instanceof TimeoutError) {
    return new ProviderUnavailableError(`${context.provider} did not answer ${what} in time (${clean(error.message)})`, {
      code: 'provider_timeout',
    });
  }
  if (error instanceof ParseError) {
    return new ProviderUnavailableError(`${context.provider} answered ${what} with something that is not JSON`, {
      status: error.response.statusCode,
      code: 'provider_unexpected',
    });
  }
  const code = (error as { code?: string })?.code;
  if (code === 'ENOTFOUND') {
    // The host actually asked (after redirects), not only the one the caller named.
    const asked = error instanceof RequestError && error.options?.url instanceof URL ? error.options.url.hostname : context.url.hostname;
    return new ProviderUnavailableError(
      `could not reach ${context.provider} at ${context.url.origin}: the host name ${clean(printable(asked, 253))} does not ` +
        `resolve (ENOTFOUND), which retrying would not change`,
      { code: 'provider_unreachable' },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderUnavailableError(`could not reach ${context.provider} at ${context.url.origin}: ${clean(code ?? message)}`, {
    code: 'provider_unreachable',
  });
}

/**
 * "Unauthenticated: Invalid token" from the provider's error envelope; empty when it has none. got
 * has parsed a JSON body already (error answers too): a body still a string is not JSON.
 */
function providerSays(body: unknown, envelope: ErrorEnvelope): string {
  const title = envelope.title ? getPointer(body, envelope.title) : undefined;
  const message = getPointer(body, envelope.message);
  return [title, message].filter((p): p is string => typeof p === 'string' && p.trim() !== '').join(': ');
}
