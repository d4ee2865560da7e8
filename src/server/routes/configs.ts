import type { FastifyInstance } from 'fastify';
import type { DestinationCreateRequest } from '../../generated/destination-create-request.js';
import type { SourceCreateRequest } from '../../generated/source-create-request.js';
import type { SavedConfigs } from '../../sync/saved-configs.js';
import { problems, ref } from '../api-schemas.js';

const idParam = { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] } as const;
const deleted = { type: 'object', properties: { id: { type: 'string' }, deleted: { type: 'boolean' } }, required: ['id', 'deleted'] };

/** Sources and destinations: saved configurations that point at a credential tile. */
export function configRoutes(configs: SavedConfigs) {
  return async (app: FastifyInstance): Promise<void> => {
    const source = ref('source');
    app.post<{ Body: SourceCreateRequest }>('/sources', {
      schema: { tags: ['sources'], summary: 'Save a data source (its streams are checked against the credential)', body: ref('source-create-request'), response: { 201: source, ...problems(400, 401, 403, 404, 503) } },
      handler: async (request, reply) => reply.code(201).send(await configs.addSource(request.body)),
    });
    app.get('/sources', {
      schema: { tags: ['sources'], summary: 'The saved sources', response: { 200: { type: 'array', items: source }, ...problems(401, 503) } },
      handler: async () => configs.listSources(),
    });
    app.get<{ Params: { id: string } }>('/sources/:id', {
      schema: { tags: ['sources'], summary: 'One source', params: idParam, response: { 200: source, ...problems(401, 404, 503) } },
      handler: async (request) => configs.source(request.params.id),
    });
    app.delete<{ Params: { id: string } }>('/sources/:id', {
      schema: { tags: ['sources'], summary: 'Delete a source', params: idParam, response: { 200: deleted, ...problems(401, 403, 404, 503) } },
      handler: async (request) => configs.deleteSource(request.params.id),
    });

    const destination = ref('destination');
    app.post<{ Body: DestinationCreateRequest }>('/destinations', {
      schema: { tags: ['destinations'], summary: 'Save a destination', body: ref('destination-create-request'), response: { 201: destination, ...problems(400, 401, 403, 404, 503) } },
      handler: async (request, reply) => reply.code(201).send(await configs.addDestination(request.body)),
    });
    app.get('/destinations', {
      schema: { tags: ['destinations'], summary: 'The saved destinations', response: { 200: { type: 'array', items: destination }, ...problems(401, 503) } },
      handler: async () => configs.listDestinations(),
    });
    app.get<{ Params: { id: string } }>('/destinations/:id', {
      schema: { tags: ['destinations'], summary: 'One destination', params: idParam, response: { 200: destination, ...problems(401, 404, 503) } },
      handler: async (request) => configs.destination(request.params.id),
    });
    app.delete<{ Params: { id: string } }>('/destinations/:id', {
      schema: { tags: ['destinations'], summary: 'Delete a destination', params: idParam, response: { 200: deleted, ...problems(401, 403, 404, 503) } },
      handler: async (request) => configs.deleteDestination(request.params.id),
    });
  };
}
