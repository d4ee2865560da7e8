import type { FastifyInstance } from 'fastify';
import type { AccessTokens } from '../../access/access-tokens.js';
import type { AccessTokenCreateRequest } from '../../generated/access-token-create-request.js';
import { answer, BODY, problems, ref } from '../api-schemas.js';
import { idParams } from '../id-params.js';

/** API tokens of the caller's workspace: an admin creates (no higher than its own role), lists and revokes them. */
export function tokenRoutes(tokens: AccessTokens) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: AccessTokenCreateRequest }>('/tokens', {
      schema: {
        tags: ['tokens'],
        operationId: 'createToken',
        summary:
          "Create an API token in the caller's workspace, with a role no higher than the caller's (the token is in this answer only)",
        body: ref('access-token-create-request'),
        response: { 201: answer('The new token: its secret `token` is in this answer only', ref('access-token')), ...problems(...BODY) },
      },
      handler: async (request, reply) => reply.code(201).send(await tokens.create(request.body)),
    });
    app.get('/tokens', {
      schema: {
        tags: ['tokens'],
        operationId: 'listTokens',
        summary: "The API tokens of the caller's workspace (never the tokens themselves)",
        response: { 200: answer('The tokens, oldest first', { type: 'array', items: ref('access-token') }), ...problems() },
      },
      handler: async () => tokens.list(),
    });
    app.delete<{ Params: { id: string } }>('/tokens/:id', {
      schema: {
        tags: ['tokens'],
        operationId: 'deleteToken',
        summary: 'Revoke an API token',
        params: idParams('token'),
        response: {
          200: answer('It is revoked', {
            type: 'object',
            properties: { id: { type: 'string' }, deleted: { type: 'boolean' } },
            required: ['id', 'deleted'],
          }),
          ...problems(...BODY, 404),
        },
      },
      handler: async (request) => tokens.revoke(request.params.id),
    });
  };
}
