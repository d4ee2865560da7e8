import { expect } from '@jest/globals';
import { type Role, withAccess } from '../../src/access/access.js';
import { type ApiAnswer, type ApiUnderTest, callApi } from './api-server.js';

/** The host page a test's sessions allow: another site than the server's 127.0.0.1. */
export const HOST_ORIGIN = 'http://127.0.0.2:8080';

/**
 * A host's back end and its Connect page against a test server, over real HTTP: a workspace's
 * token, a session minted with it, its token exchanged (no Authorization: the token is the
 * credential), and both at once. `server` is read at each call (a suite starts one per test).
 */
export function connectCalls(server: () => ApiUnderTest) {
  const call = (method: string, path: string, token: string, body?: unknown): Promise<ApiAnswer> =>
    callApi(server().url, method, path, { token, ...(body !== undefined ? { body } : {}) });

  const tokenOf = async (workspace: string, role: Role): Promise<string> => {
    const made = await withAccess({ workspace, role: 'admin' }, () =>
      server().credport.tokens.create({ name: `${workspace} ${role}`, role }),
    );
    return made.token!;
  };

  const mint = async (token: string, body: Record<string, unknown> = {}): Promise<{ id: string; token: string; expiresAt: string }> => {
    const answer = await call('POST', '/api/v1/connect/sessions', token, {
      endUser: { id: 'user-42' },
      allowedOrigins: [HOST_ORIGIN],
      ...body,
    });
    expect(answer.status).toBe(201);
    return answer.body as { id: string; token: string; expiresAt: string };
  };

  const exchange = async (token: string): Promise<ApiAnswer> => {
    const response = await fetch(`${server().url}/api/v1/connect/exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };

  const bearerFor = async (token: string, body: Record<string, unknown> = {}): Promise<{ id: string; token: string; bearer: string }> => {
    const session = await mint(token, body);
    const answer = await exchange(session.token);
    expect(answer.status).toBe(200);
    return { id: session.id, token: session.token, bearer: (answer.body as { bearer: string }).bearer };
  };

  return { call, tokenOf, mint, exchange, bearerFor };
}
