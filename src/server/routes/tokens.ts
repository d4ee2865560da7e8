import type { FastifyInstance } from 'fastify';
import type { AccessTokens } from '../../access/access-tokens.js';
import type { AccessTokenCreateRequest } from '../../generated/access-token-create-request.js';
import { problems, ref } from '../api-schemas.js';

/** API tokens of the caller's workspace: an admin creates (no higher than its own role), lists and revokes them. */
export function tokenRoutes(tokens: AccessTokens) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: AccessTokenCreateRequest }>('/tokens', {
      schema: {
        tags: ['tokens'],
        summary:
          "Create an API token in the caller's workspace, with a role no higher than the caller's (the token is in this answer only)",
        body: ref('access-token-create-request'),
        response: { 201: ref('access-token'), ...problems(400, 401, 403) },
      },
      handler: async (request, reply) => reply.code(201).send(await tokens.create(request.body)),
    });
    app.get('/tokens', {
      schema: {
        tags: ['tokens'],
        summary: "The API tokens of the caller's workspace (never the tokens themselves)",
        response: { 200: { type: 'array', items: ref('access-token') }, ...problems(401, 403) },
      },
      handler: async () => tokens.list(),
    });
    app.delete<{ Params: { id: string } }>('/tokens/:id', {
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an API token',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        response: {
          200: { type: 'object', properties: { id: { type: 'string' }, deleted: { type: 'boolean' } }, required: ['id', 'deleted'] },
          ...problems(401, 403, 404),
        },
      },
      handler: async (request) => tokens.revoke(request.params.id),
    });
  };
}
