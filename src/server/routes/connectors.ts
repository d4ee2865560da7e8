import type { FastifyInstance } from 'fastify';
import type { ConnectorCatalog } from '../../catalog/connector-catalog.js';
import { answer, problems, ref } from '../api-schemas.js';
import { idParams } from '../id-params.js';

const idParam = idParams('connector');

/** The connectors a host can offer, and the form of each: what `credport connectors` prints (the catalog keeps a caller to its own). */
export function connectorRoutes(catalog: ConnectorCatalog) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/connectors', {
      schema: {
        tags: ['connectors'],
        operationId: 'listConnectors',
        summary: "The connectors credport knows (a connect session's bearer: its session's)",
        response: { 200: answer('The connectors', { type: 'array', items: ref('connector-summary') }), ...problems() },
      },
      handler: async () => catalog.list(),
    });
    app.get<{ Params: { id: string } }>('/connectors/:id/form', {
      schema: {
        tags: ['connectors'],
        operationId: 'getConnectorForm',
        summary:
          'The "Add New Credential" form of a connector: JSON Schema and uiSchema (react-jsonschema-form convention), and whether ' +
          'this caller may give a base URL',
        params: idParam,
        response: {
          200: answer('The form', ref('connector-form')),
          ...problems(400, 404),
        },
      },
      handler: async (request) => catalog.form(request.params.id),
    });
  };
}
