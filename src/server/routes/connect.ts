import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ConnectSessions, ConnectTokenError } from '../../connect/connect-sessions.js';
import type { ConnectExchangeRequest } from '../../generated/connect-exchange-request.js';
import type { ConnectSelectionRequest } from '../../generated/connect-selection-request.js';
import type { ConnectSessionCreateRequest } from '../../generated/connect-session-create-request.js';
import { answer, BODY, location, problems, RATE_LIMIT_HEADERS, rateLimited, ref } from '../api-schemas.js';
import { idParams } from '../id-params.js';
import { problemFor } from '../problem-details.js';
import { refuse } from '../request-auth.js';

const idParam = idParams('connect session');
const session = ref('connect-session');

/** Exchanges per token per minute: the token is 32 random bytes, so this only keeps a loop from filling the log. */
export const EXCHANGE_ATTEMPTS = { max: 20, timeWindow: 60_000 };

/**
 * A host's back end mints, reads and revokes its end users' connect sessions, with an API token of the
 * workspace (editor or admin); a pick session's bearer reports the tile its end user picked.
 */
export function connectSessionRoutes(connect: ConnectSessions) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: ConnectSessionCreateRequest }>('/connect/sessions', {
      schema: {
        tags: ['connect'],
        operationId: 'createConnectSession',
        summary: "Mint a connect session for one of the host's end users (an editor's or admin's token); its token is in this answer only",
        body: ref('connect-session-create-request'),
        response: {
          201: answer(
            'The session: hand its token to the Connect page by postMessage',
            ref('connect-session-created'),
            location('the session'),
          ),
          ...problems(...BODY, 404),
        },
      },
      handler: async (request, reply) => {
        const created = await connect.createSession(request.body);
        return reply.code(201).header('location', `/api/v1/connect/sessions/${created.id}`).send(created);
      },
    });
    app.get<{ Params: { id: string } }>('/connect/sessions/:id', {
      schema: {
        tags: ['connect'],
        operationId: 'getConnectSession',
        summary: 'A connect session: its state, and the tile it created, picked or repaired (never its token)',
        params: idParam,
        response: { 200: answer('The session', session), ...problems(400, 404) },
      },
      handler: async (request) => connect.getSession(request.params.id),
    });
    app.delete<{ Params: { id: string } }>('/connect/sessions/:id', {
      schema: {
        tags: ['connect'],
        operationId: 'revokeConnectSession',
        summary: 'Revoke a connect session at once: its token cannot be exchanged and its bearer stops working',
        params: idParam,
        response: { 200: answer('The session, revoked', session), ...problems(...BODY, 404) },
      },
      handler: async (request) => connect.revokeSession(request.params.id),
    });
    app.post<{ Body: ConnectSelectionRequest }>('/connect/selection', {
      schema: {
        tags: ['connect'],
        operationId: 'selectConnectCredential',
        summary: "A pick session's bearer reports the tile its end user picked (one it lists): the session completes with outcome picked",
        body: ref('connect-selection-request'),
        response: { 200: answer('The picked tile', ref('credential-tile')), ...problems(...BODY, 404) },
      },
      handler: async (request) => connect.select(request.body.credentialId),
    });
  };
}

/**
 * The exchange's answers: counted by the limiter once the body is read, so its refusal of a token
 * (401, from the handler) carries the counters too, unlike an API route's 401 (refused before counting).
 */
function exchangeResponses() {
  const responses = rateLimited({
    200: answer('The bearer (keep it in memory only) and what the session is for', ref('connect-exchange')),
    ...problems(...BODY, 410, 429),
  }) as Record<string, { headers?: Record<string, unknown> }>;
  responses[401] = { ...responses[401], headers: { ...responses[401]!.headers, ...RATE_LIMIT_HEADERS } };
  return responses;
}

/**
 * POST /connect/exchange `{token}`: the Connect page's way in, outside the authenticated API (the
 * session's token is the credential). Each token is exchanged once for a bearer; a second try, or
 * one after the session expired or was revoked, is 410; a token that is none of ours, 401.
 */
export function connectExchangeRoute(connect: ConnectSessions) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: ConnectExchangeRequest }>('/connect/exchange', {
      schema: {
        tags: ['connect'],
        operationId: 'exchangeConnectToken',
        summary: "Exchange a connect session's token, once, for a short-lived bearer scoped to that session",
        security: [],
        body: ref('connect-exchange-request'),
        response: exchangeResponses(),
      },
      // After validation, so the key is the token itself (hashed: the limiter's keys are no place for a secret).
      config: {
        rateLimit: {
          ...EXCHANGE_ATTEMPTS,
          hook: 'preHandler',
          keyGenerator: (request: FastifyRequest) =>
            `connect:${createHash('sha256')
              .update((request.body as ConnectExchangeRequest).token)
              .digest('hex')}`,
        },
      },
      handler: async (request, reply) => {
        reply.header('cache-control', 'no-store');
        try {
          return await connect.exchange(request.body.token);
        } catch (error) {
          if (error instanceof ConnectTokenError && error.code === 'connect_token_invalid')
            return refuse(reply, 401, error.code, error.message);
          const problem = problemFor(error, { body: request.body });
          return reply.code(problem.status).type('application/problem+json').send(problem);
        }
      },
    });
  };
}
