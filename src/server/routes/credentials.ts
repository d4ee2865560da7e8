import type { FastifyInstance } from 'fastify';
import type { CredentialService } from '../../credentials/credential-service.js';
import type { CredentialCreateRequest } from '../../generated/credential-create-request.js';
import type { CredentialRotateRequest } from '../../generated/credential-rotate-request.js';
import type { CredentialUpdateRequest } from '../../generated/credential-update-request.js';
import { problems, ref } from '../api-schemas.js';

const idParam = { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] } as const;
const tile = ref('credential-tile');

/** Each of these asks the provider: limited per caller, since a form can be submitted in a loop. */
export interface VerifyLimit {
  max: number;
  timeWindow: number;
}

/**
 * The credential lifecycle over HTTP: the same service calls as the CLI. Answers are serialised
 * with the tile schema, which has no secret field: even a bug that put one on a tile could not send it.
 */
export function credentialRoutes(credentials: CredentialService, verifyLimit: VerifyLimit) {
  return async (app: FastifyInstance): Promise<void> => {
    const limited = { config: { rateLimit: verifyLimit } };
    app.post<{ Body: CredentialCreateRequest }>('/credentials', {
      ...limited,
      schema: {
        tags: ['credentials'],
        summary: 'Validate, verify with the provider, seal and save a credential',
        body: ref('credential-create-request'),
        response: { 201: tile, ...problems(400, 401, 403, 422, 429, 502, 503, 504) },
      },
      handler: async (request, reply) => reply.code(201).send(await credentials.create(request.body)),
    });
    app.get<{ Querystring: { connector?: string } }>('/credentials', {
      schema: {
        tags: ['credentials'],
        summary: 'The saved credentials as tiles (never a secret)',
        querystring: { type: 'object', properties: { connector: { type: 'string', maxLength: 64 } }, additionalProperties: false },
        response: { 200: { type: 'array', items: tile }, ...problems(400, 401, 503) },
      },
      handler: async (request) => credentials.list(request.query.connector !== undefined ? { connector: request.query.connector } : {}),
    });
    app.get<{ Params: { id: string } }>('/credentials/:id', {
      schema: { tags: ['credentials'], summary: 'One tile', params: idParam, response: { 200: tile, ...problems(401, 404, 503) } },
      handler: async (request) => credentials.show(request.params.id),
    });
    app.patch<{ Params: { id: string }; Body: CredentialUpdateRequest }>('/credentials/:id', {
      schema: {
        tags: ['credentials'],
        summary: 'Rename, or change the description',
        params: idParam,
        body: ref('credential-update-request'),
        response: { 200: tile, ...problems(400, 401, 403, 404, 409, 503) },
      },
      handler: async (request) => credentials.update(request.params.id, request.body),
    });
    app.delete<{ Params: { id: string } }>('/credentials/:id', {
      schema: {
        tags: ['credentials'],
        summary: 'Delete a credential (refused while a source or destination uses it)',
        params: idParam,
        response: {
          200: { type: 'object', properties: { id: { type: 'string' }, deleted: { type: 'boolean' } }, required: ['id', 'deleted'] },
          ...problems(401, 403, 404, 409, 503),
        },
      },
      handler: async (request) => credentials.delete(request.params.id),
    });
    app.post<{ Params: { id: string } }>('/credentials/:id/test', {
      ...limited,
      schema: {
        tags: ['credentials'],
        summary: 'Ask the provider again; a refusal marks the tile invalid',
        params: idParam,
        response: { 200: tile, ...problems(401, 403, 404, 409, 422, 429, 502, 503, 504) },
      },
      handler: async (request) => credentials.test(request.params.id),
    });
    app.post<{ Params: { id: string }; Body: CredentialRotateRequest }>('/credentials/:id/rotate', {
      ...limited,
      schema: {
        tags: ['credentials'],
        summary: 'Replace the secret: the new one is verified first, the old one kept on any failure',
        params: idParam,
        body: ref('credential-rotate-request'),
        response: { 200: tile, ...problems(400, 401, 403, 404, 409, 422, 429, 502, 503, 504) },
      },
      handler: async (request) => credentials.rotate(request.params.id, request.body),
    });
  };
}
