import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InputError } from '../../errors.js';
import type { LoginSessions } from '../login-sessions.js';
import { bearerOf, refuse } from '../request-auth.js';

/** Attempts at one login code per minute. */
export const LOGIN_ATTEMPTS = { max: 20, timeWindow: 60_000 };

/**
 * POST /session `{code}`: the web app swaps the login code (from its link's fragment) for a session
 * token. Nobody is signed in yet, so this route is outside the authenticated API. Attempts are
 * counted per code presented, not per address: a local process sending wrong codes spends its own
 * codes' budget and cannot lock the real code out (guessing one is hopeless: 24 random bytes).
 */
export function sessionExchangeRoute(sessions: LoginSessions) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: { code: string } }>('/session', {
      schema: {
        hide: true,
        body: {
          type: 'object',
          properties: { code: { type: 'string', minLength: 1, maxLength: 200 } },
          required: ['code'],
          additionalProperties: false,
        },
        response: { 201: { type: 'object', properties: { token: { type: 'string' } }, required: ['token'], additionalProperties: false } },
      },
      // After validation, so the key is the code itself (hashed: the limiter's keys are no place for a secret).
      config: {
        rateLimit: {
          ...LOGIN_ATTEMPTS,
          hook: 'preHandler',
          keyGenerator: (request: FastifyRequest) => `login:${hashOf((request.body as { code: string }).code)}`,
        },
      },
      handler: async (request, reply) => {
        reply.header('cache-control', 'no-store');
        const token = sessions.exchange(request.body.code);
        if (!token)
          return refuse(
            reply,
            401,
            'login_code_invalid',
            'this login link was used already or is not valid: each link works once, and credport serve prints a new one whenever ' +
              'one is used',
          );
        return reply.code(201).send({ token });
      },
    });
  };
}

/** DELETE /session: signing out ends the session whose token the request carries. */
export function sessionEndRoute(sessions: LoginSessions) {
  return async (app: FastifyInstance): Promise<void> => {
    app.delete('/session', { schema: { hide: true } }, async (request, reply) => {
      if (request.caller?.kind !== 'session')
        throw new InputError('only a browser session signs out; an API token is revoked with DELETE /api/v1/tokens/{id}', {
          field: 'authorization',
        });
      sessions.end(bearerOf(request));
      return reply.code(204).send();
    });
  };
}

function hashOf(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}
