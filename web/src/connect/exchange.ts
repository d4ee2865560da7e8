import type { ApiProblem } from '../../../src/generated/api-problem.js';
import type { ConnectExchange } from '../../../src/generated/connect-exchange.js';
import { ApiError } from '../api.js';

/**
 * The session's token for its bearer, once (POST /api/v1/connect/exchange, the token in the body:
 * it never goes in a URL). Throws ApiError on a refusal (401, 410), or a TypeError when the server
 * cannot be reached.
 */
export async function exchangeToken(token: string): Promise<ConnectExchange> {
  const response = await fetch('/api/v1/connect/exchange', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ token }),
    credentials: 'omit',
    cache: 'no-store',
  });
  const data = (await response.json().catch(() => ({}))) as unknown;
  if (!response.ok) throw new ApiError(response.status, data as Partial<ApiProblem>);
  return data as ConnectExchange;
}
