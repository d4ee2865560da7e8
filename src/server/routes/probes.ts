import type { FastifyInstance } from 'fastify';
import type { CredportMetrics } from '../../metrics/credport-metrics.js';
import { answerProbe } from '../../metrics/metrics-server.js';
import type { Readiness } from '../../metrics/readiness.js';
import { sameSecret } from '../api-token.js';
import { bearerOf, refuse } from '../request-auth.js';

/**
 * On serve's main port: /healthz and /readyz without auth (a load balancer's probes; they say ok or
 * failing and nothing else), and /metrics for the server's own API token only: the operator's. A
 * workspace's token, a browser session or a connect bearer is a tenant's or an end user's, and the
 * fleet's counts are not theirs to read (403). Outside /api/v1 and the OpenAPI document, as
 * /openapi.json is: they are the operator's, not the API's (docs/operations/metrics.md).
 */
export function probeRoutes(options: { metrics: CredportMetrics; readiness: Readiness; apiToken: string }) {
  return async (app: FastifyInstance): Promise<void> => {
    for (const path of ['/healthz', '/readyz'] as const) {
      app.get(path, { schema: { hide: true } }, async (_request, reply) => {
        const answer = (await answerProbe(path, options))!;
        return reply.code(answer.status).header('cache-control', 'no-store').type(answer.type).send(answer.body);
      });
    }
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      const token = bearerOf(request);
      if (token === undefined)
        return refuse(reply, 401, 'unauthenticated', "send the server's API token as Authorization: Bearer, or scrape --metrics-port");
      if (!sameSecret(token, options.apiToken))
        return refuse(reply, 403, 'forbidden', "the metrics are the operator's: only the server's own API token reads them");
      const answer = (await answerProbe('/metrics', options))!;
      return reply.code(200).header('cache-control', 'no-store').type(answer.type).send(answer.body);
    });
  };
}
