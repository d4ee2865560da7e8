import type { FastifyInstance } from 'fastify';
import type { DestinationCreateRequest } from '../../generated/destination-create-request.js';
import type { SourceCreateRequest } from '../../generated/source-create-request.js';
import type { SavedConfigs } from '../../configs/config-service.js';
import type { Page, PageOptions } from '../../page-cursor.js';
import { answer, BODY, location, problems, ref } from '../api-schemas.js';
import { idParams } from '../id-params.js';
import { NEXT_LINK, PAGE_QUERY, pageRequested, sendPage } from '../page-link.js';

const deleted = { type: 'object', properties: { id: { type: 'string' }, deleted: { type: 'boolean' } }, required: ['id', 'deleted'] };

/** One kind of saved configuration: its collection path, schemas, and the service calls behind them. */
interface ConfigKind<Input> {
  path: string;
  /** Singular, for summaries ("source"); also the kind of its ids. */
  noun: 'source' | 'destination';
  /** The operationIds' noun, singular and plural ("Source", "Sources"). */
  names: [string, string];
  schema: string;
  requestSchema: string;
  addSummary: string;
  add(input: Input): Promise<{ id: string }>;
  list(page: PageOptions): Promise<Page<{ path?: string }>>;
  /** A saved item as this caller may see it (a tenant's paths relative to its folder). */
  shown<T extends { path?: string }>(item: T): T;
  get(id: string): Promise<unknown>;
  remove(id: string): Promise<unknown>;
}

function configKindRoutes<Input>(app: FastifyInstance, kind: ConfigKind<Input>): void {
  const tags = [kind.path];
  const one = ref(kind.schema);
  const [singular, plural] = kind.names;
  const idParam = idParams(kind.noun);
  app.post<{ Body: Input }>(`/${kind.path}`, {
    schema: {
      tags,
      operationId: `create${singular}`,
      summary: kind.addSummary,
      body: ref(kind.requestSchema),
      // 404: the credential it names.
      response: { 201: answer(`The saved ${kind.noun}`, one, location(`the new ${kind.noun}`)), ...problems(...BODY, 404) },
    },
    handler: async (request, reply) => {
      const created = await kind.add(request.body as Input);
      return reply.code(201).header('location', `/api/v1/${kind.path}/${created.id}`).send(created);
    },
  });
  app.get<{ Querystring: PageOptions }>(`/${kind.path}`, {
    schema: {
      tags,
      operationId: `list${plural}`,
      summary: `The saved ${kind.path}, a page at a time`,
      querystring: { type: 'object', properties: PAGE_QUERY, additionalProperties: false },
      response: { 200: answer(`The ${kind.path}, oldest first`, { type: 'array', items: one }, NEXT_LINK), ...problems(400) },
    },
    handler: async (request, reply) => {
      const page = await kind.list(pageRequested(request.query));
      return sendPage(
        request,
        reply,
        page,
        page.map((item) => kind.shown(item)),
      );
    },
  });
  app.get<{ Params: { id: string } }>(`/${kind.path}/:id`, {
    schema: {
      tags,
      operationId: `get${singular}`,
      summary: `One ${kind.noun}`,
      params: idParam,
      response: { 200: answer(`The ${kind.noun}`, one), ...problems(400, 404) },
    },
    handler: async (request) => kind.get(request.params.id),
  });
  app.delete<{ Params: { id: string } }>(`/${kind.path}/:id`, {
    schema: {
      tags,
      operationId: `delete${singular}`,
      summary: `Delete a ${kind.noun}`,
      params: idParam,
      response: { 200: answer('It is deleted', deleted), ...problems(...BODY, 404) },
    },
    handler: async (request) => kind.remove(request.params.id),
  });
}

/**
 * Sources and destinations: saved configurations that point at a credential tile. A tenant's token
 * sees its JSONL paths relative to its workspace folder, never the server's own.
 */
export function configRoutes(configs: SavedConfigs) {
  return async (app: FastifyInstance): Promise<void> => {
    configKindRoutes<SourceCreateRequest>(app, {
      path: 'sources',
      noun: 'source',
      names: ['Source', 'Sources'],
      schema: 'source',
      requestSchema: 'source-create-request',
      addSummary: 'Save a data source (its streams are checked against the credential)',
      add: async (input) => configs.shown(await configs.addSource(input)),
      list: (page) => configs.listSources(page),
      shown: (item) => configs.shown(item),
      get: async (id) => configs.shown(await configs.source(id)),
      remove: (id) => configs.deleteSource(id),
    });
    configKindRoutes<DestinationCreateRequest>(app, {
      path: 'destinations',
      noun: 'destination',
      names: ['Destination', 'Destinations'],
      schema: 'destination',
      requestSchema: 'destination-create-request',
      addSummary: 'Save a destination (a JSONL folder, or a provider written through a credential)',
      add: async (input) => configs.shown(await configs.addDestination(input)),
      list: (page) => configs.listDestinations(page),
      shown: (item) => configs.shown(item),
      get: async (id) => configs.shown(await configs.destination(id)),
      remove: (id) => configs.deleteDestination(id),
    });
  };
}
