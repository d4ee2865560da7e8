import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorOf } from './request-auth.js';

/**
 * Every answer carries its request's id (X-Request-Id: the caller's own if it was fit to repeat, see
 * logging/request-id.ts), so a caller can quote it; with a logger, one line a request once it is
 * answered: the route pattern (never the raw URL: a query may hold anything), the status, the time
 * taken, and who asked, in which workspace (never how they proved it).
 */
export function registerRequestLogging(app: FastifyInstance, logged: boolean): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  if (!logged) return;
  app.addHook('onResponse', async (request, reply) => {
    const fields = {
      method: request.method,
      route: request.routeOptions.url ?? null,
      statusCode: reply.statusCode,
      responseTime: Math.round(reply.elapsedTime * 10) / 10,
      ...whoAsked(request),
    };
    if (reply.statusCode >= 500) request.log.error(fields, 'request failed');
    else request.log.info(fields, 'request completed');
  });
}

/** The caller, once authenticated: its workspace and its actor as the audit trail names it. */
function whoAsked(request: FastifyRequest): { workspace?: string; actor?: string } {
  if (!request.access) return {};
  return { workspace: request.access.workspace, actor: actorOf(request) };
}
