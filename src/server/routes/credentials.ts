import type { FastifyInstance } from 'fastify';
import type { CredentialService } from '../../credentials/credential-service.js';
import type { CredentialCreateRequest } from '../../generated/credential-create-request.js';
import type { CredentialRotateRequest } from '../../generated/credential-rotate-request.js';
import type { CredentialUpdateRequest } from '../../generated/credential-update-request.js';
import type { PageOptions } from '../../page-cursor.js';
import { answer, BODY, location, problems, rateLimited, ref } from '../api-schemas.js';
import { idParams } from '../id-params.js';
import { NEXT_LINK, PAGE_QUERY, pageRequested, sendPage } from '../page-link.js';

const idParam = idParams('credential');
const tile = ref('credential-tile');
const deleted = { type: 'object', properties: { id: { type: 'string' }, deleted: { type: 'boolean' } }, required: ['id', 'deleted'] };
/** What asks the provider can also meet its refusal, its absence or its silence. */
const PROVIDER = [422, 502, 504];

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
        operationId: 'createCredential',
        summary: 'Validate, verify with the provider, seal and save a credential',
        body: ref('credential-create-request'),
        response: rateLimited({
          201: answer('The saved credential, as its tile', tile, location('the new credential')),
          ...problems(...BODY, 410, 429, ...PROVIDER),
        }),
      },
      handler: async (request, reply) => {
        const created = await credentials.create(request.body);
        return reply.code(201).header('location', `/api/v1/credentials/${created.id}`).send(created);
      },
    });
    app.get<{ Querystring: { connector?: string } & PageOptions }>('/credentials', {
      schema: {
        tags: ['credentials'],
        operationId: 'listCredentials',
        summary: 'The saved credentials as tiles (never a secret), a page at a time',
        querystring: {
          type: 'object',
          properties: { connector: { type: 'string', maxLength: 64 }, ...PAGE_QUERY },
          additionalProperties: false,
        },
        response: { 200: answer('The tiles, oldest first', { type: 'array', items: tile }, NEXT_LINK), ...problems(400) },
      },
      handler: async (request, reply) => {
        const { connector } = request.query;
        const page = await credentials.list({ ...(connector !== undefined ? { connector } : {}), ...pageRequested(request.query) });
        return sendPage(request, reply, page);
      },
    });
    app.get<{ Params: { id: string } }>('/credentials/:id', {
      schema: {
        tags: ['credentials'],
        operationId: 'getCredential',
        summary: 'One tile',
        params: idParam,
        response: { 200: answer('The tile', tile), ...problems(400, 404) },
      },
      handler: async (request) => credentials.show(request.params.id),
    });
    app.patch<{ Params: { id: string }; Body: CredentialUpdateRequest }>('/credentials/:id', {
      schema: {
        tags: ['credentials'],
        operationId: 'updateCredential',
        summary: 'Rename, or change the description',
        params: idParam,
        body: ref('credential-update-request'),
        response: { 200: answer('The tile as saved', tile), ...problems(...BODY, 404, 409) },
      },
      handler: async (request) => credentials.update(request.params.id, request.body),
    });
    app.delete<{ Params: { id: string } }>('/credentials/:id', {
      schema: {
        tags: ['credentials'],
        operationId: 'deleteCredential',
        summary: 'Delete a credential (refused while a source or destination uses it)',
        params: idParam,
        response: { 200: answer('It is deleted', deleted), ...problems(...BODY, 404, 409) },
      },
      handler: async (request) => credentials.delete(request.params.id),
    });
    app.post<{ Params: { id: string } }>('/credentials/:id/test', {
      ...limited,
      schema: {
        tags: ['credentials'],
        operationId: 'testCredential',
        summary: 'Ask the provider again; a refusal marks the tile invalid',
        params: idParam,
        response: rateLimited({ 200: answer('The tile, verified again', tile), ...problems(...BODY, 404, 409, 429, ...PROVIDER) }),
      },
      handler: async (request) => credentials.test(request.params.id),
    });
    app.post<{ Params: { id: string }; Body: CredentialRotateRequest }>('/credentials/:id/rotate', {
      ...limited,
      schema: {
        tags: ['credentials'],
        operationId: 'rotateCredential',
        summary: 'Replace the secret: the new one is verified first, the old one kept on any failure',
        params: idParam,
        body: ref('credential-rotate-request'),
        response: rateLimited({ 200: answer('The tile with the new secret', tile), ...problems(...BODY, 404, 409, 410, 429, ...PROVIDER) }),
      },
      handler: async (request) => credentials.rotate(request.params.id, request.body),
    });
  };
}
