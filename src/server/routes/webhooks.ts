import type { FastifyInstance } from 'fastify';
import type { PageOptions } from '../../page-cursor.js';
import type { WebhookDeliveries, WebhookDelivery } from '../../webhooks/webhook-deliveries.js';
import type { WebhookEndpointChanges, WebhookEndpointInput, WebhookEndpoints } from '../../webhooks/webhook-endpoints.js';
import { answer, BODY, location, problems, ref } from '../api-schemas.js';
import { idParams } from '../id-params.js';
import { NEXT_LINK, PAGE_QUERY, pageRequested, sendPage } from '../page-link.js';

const tags = ['webhooks'];
const idParam = idParams('webhook endpoint');
const endpoint = ref('webhook-endpoint');

/**
 * The workspace's webhook endpoints, for its admins: register one (its signing secret in that answer
 * only), list, read, change and delete them, rotate the secret, and send a signed test delivery.
 * Not a connect session's route (connect-limits.ts names none of these).
 */
export function webhookRoutes(webhooks: WebhookEndpoints, deliveries: WebhookDeliveries) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: WebhookEndpointInput }>('/webhooks', {
      schema: {
        tags,
        operationId: 'createWebhook',
        summary: "Register a webhook endpoint in the caller's workspace (an admin's token); its signing secret is in this answer only",
        body: ref('webhook-endpoint-create-request'),
        response: {
          201: answer(
            'The endpoint, with its signing secret (whsec_...): give it to the receiver now',
            ref('webhook-endpoint-created'),
            location('the endpoint'),
          ),
          // 409 limit_reached: the workspace has MAX_ENDPOINTS already.
          ...problems(...BODY, 409),
        },
      },
      handler: async (request, reply) => {
        const created = await webhooks.create(request.body);
        return reply.code(201).header('location', `/api/v1/webhooks/${created.id}`).send(created);
      },
    });
    app.get<{ Querystring: PageOptions }>('/webhooks', {
      schema: {
        tags,
        operationId: 'listWebhooks',
        summary: "The workspace's webhook endpoints, a page at a time (never a secret)",
        querystring: { type: 'object', properties: PAGE_QUERY, additionalProperties: false },
        response: { 200: answer('The endpoints, oldest first', { type: 'array', items: endpoint }, NEXT_LINK), ...problems(400) },
      },
      handler: async (request, reply) => sendPage(request, reply, await webhooks.list(pageRequested(request.query))),
    });
    app.get<{ Params: { id: string } }>('/webhooks/:id', {
      schema: {
        tags,
        operationId: 'getWebhook',
        summary: 'One webhook endpoint (never its secret)',
        params: idParam,
        response: { 200: answer('The endpoint', endpoint), ...problems(400, 404) },
      },
      handler: async (request) => webhooks.get(request.params.id),
    });
    app.patch<{ Params: { id: string }; Body: WebhookEndpointChanges }>('/webhooks/:id', {
      schema: {
        tags,
        operationId: 'updateWebhook',
        summary: 'Change an endpoint: its URL (checked as when registered), events, enabled, description',
        params: idParam,
        body: ref('webhook-endpoint-update-request'),
        response: { 200: answer('The endpoint as changed', endpoint), ...problems(...BODY, 404) },
      },
      handler: async (request) => webhooks.update(request.params.id, request.body),
    });
    app.delete<{ Params: { id: string } }>('/webhooks/:id', {
      schema: {
        tags,
        operationId: 'deleteWebhook',
        summary: 'Delete a webhook endpoint: nothing more is sent to it',
        params: idParam,
        response: {
          200: answer('It is deleted', {
            type: 'object',
            properties: { id: { type: 'string' }, deleted: { type: 'boolean' } },
            required: ['id', 'deleted'],
          }),
          ...problems(...BODY, 404),
        },
      },
      handler: async (request) => webhooks.delete(request.params.id),
    });
    app.post<{ Params: { id: string } }>('/webhooks/:id/rotate-secret', {
      schema: {
        tags,
        operationId: 'rotateWebhookSecret',
        summary: 'A new signing secret, in this answer only; the one before keeps signing alongside it for 24 hours',
        params: idParam,
        response: { 200: answer('The endpoint with its new secret', ref('webhook-endpoint-created')), ...problems(...BODY, 404) },
      },
      handler: async (request) => webhooks.rotateSecret(request.params.id),
    });
    app.post<{ Params: { id: string } }>('/webhooks/:id/test', {
      schema: {
        tags,
        operationId: 'testWebhook',
        summary:
          'Send the endpoint a signed webhook.test message now and answer the attempt (a failed one is delivered: false, not an error)',
        params: idParam,
        response: { 200: answer('The attempt', ref('webhook-test-result')), ...problems(...BODY, 404) },
      },
      handler: async (request) => webhooks.test(request.params.id),
    });
    app.get<{ Params: { id: string }; Querystring: PageOptions & { status?: WebhookDelivery['status'] } }>('/webhooks/:id/deliveries', {
      schema: {
        tags,
        operationId: 'listWebhookDeliveries',
        summary:
          "The endpoint's deliveries, oldest first: each event's attempts (time, status, the answer's first 200 characters) and its next retry",
        params: idParam,
        querystring: {
          type: 'object',
          properties: { ...PAGE_QUERY, status: { type: 'string', enum: ['pending', 'delivered', 'failed'] } },
          additionalProperties: false,
        },
        response: {
          200: answer('The deliveries', { type: 'array', items: ref('webhook-delivery') }, NEXT_LINK),
          ...problems(400, 404),
        },
      },
      handler: async (request, reply) => {
        const { status, ...page } = request.query;
        return sendPage(
          request,
          reply,
          await deliveries.list(request.params.id, { ...pageRequested(page), ...(status ? { status } : {}) }),
        );
      },
    });
    app.post<{ Params: { id: string; deliveryId: string } }>('/webhooks/:id/deliveries/:deliveryId/redeliver', {
      schema: {
        tags,
        operationId: 'redeliverWebhook',
        summary:
          'Send a failed delivery again: pending now, its retry schedule started over (an endpoint credport disabled sends once enabled)',
        params: {
          type: 'object',
          properties: {
            ...idParam.properties,
            deliveryId: {
              type: 'string',
              pattern: '^msg_[A-Za-z0-9]{16,40}$',
              'x-pattern-message': 'is not a delivery id (a webhook-id: msg_...)',
            },
          },
          required: ['id', 'deliveryId'],
          additionalProperties: false,
        },
        response: { 200: answer('The delivery, pending again', ref('webhook-delivery')), ...problems(...BODY, 404) },
      },
      handler: async (request) => deliveries.redeliver(request.params.id, request.params.deliveryId),
    });
  };
}
