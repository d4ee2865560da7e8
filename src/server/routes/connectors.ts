import type { FastifyInstance } from 'fastify';
import { CredportError, NotFoundError } from '../../errors.js';
import type { ConnectorSummary } from '../../generated/connector-summary.js';
import type { Connector } from '../../registry/connector.js';
import type { ConnectorRegistry } from '../../registry/connector-registry.js';
import type { OutboundPolicy } from '../../http/outbound-policy.js';
import { answer, problems, ref } from '../api-schemas.js';
import { idParams } from '../id-params.js';

const idParam = idParams('connector');

/** The connectors a host can offer, and the form of each: what `credport connectors` prints. */
export function connectorRoutes(registry: ConnectorRegistry, outbound: OutboundPolicy) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/connectors', {
      schema: {
        tags: ['connectors'],
        operationId: 'listConnectors',
        summary: 'The connectors credport knows',
        response: { 200: answer('The connectors', { type: 'array', items: ref('connector-summary') }), ...problems() },
      },
      handler: async () => registry.list().map((connector) => summary(connector, outbound.allowedFor(connector.id))),
    });
    app.get<{ Params: { id: string } }>('/connectors/:id/form', {
      schema: {
        tags: ['connectors'],
        operationId: 'getConnectorForm',
        summary: 'The "Add New Credential" form of a connector: JSON Schema and uiSchema (react-jsonschema-form convention)',
        params: idParam,
        response: {
          200: answer('The form', ref('connector-form')),
          ...problems(400, 404),
        },
      },
      handler: async (request) => {
        const connector = found(registry, request.params.id);
        return { id: connector.id, title: connector.manifest.title, docs: connector.manifest.docs, form: registry.form(connector.id) };
      },
    });
  };
}

/** The connector a path names: one credport does not know is not there (404), as a record would not be. */
function found(registry: ConnectorRegistry, id: string): Connector {
  try {
    return registry.get(id);
  } catch (error) {
    if (error instanceof CredportError && error.code === 'unknown_connector') throw new NotFoundError(error.message);
    throw error;
  }
}

function summary(connector: Connector, allowedOrigins: string[]): ConnectorSummary {
  const { manifest } = connector;
  const out: ConnectorSummary = {
    id: connector.id,
    title: manifest.title,
    baseUrl: manifest.http.baseUrl,
    streams: Object.entries(manifest.streams ?? {}).map(([name, stream]) => ({
      name,
      scopes: [...stream.scopes],
      ...(stream.requires
        ? { requires: stream.requires.help, requiresIdentity: { ...stream.requires.identity } as Record<string, string> }
        : {}),
    })),
    operations: Object.keys(manifest.operations ?? {}),
  };
  if (manifest.description) out.description = manifest.description;
  if (manifest.docs) out.docs = manifest.docs;
  if (manifest.http.regions) out.regions = { ...manifest.http.regions.urls };
  if (manifest.http.customDomains) out.customDomains = [...manifest.http.customDomains];
  if (allowedOrigins.length > 0) out.allowedOrigins = allowedOrigins;
  return out;
}
