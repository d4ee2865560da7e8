import type { FastifyInstance, FastifyRequest } from 'fastify';
import { refuse } from './request-auth.js';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Defence in depth: no state-changing request is taken from a page of another origin. Credentials
 * travel only in headers that page could not send, and the server answers no CORS preflight, but a
 * browser names the page it runs a request for, so when it does and the name is not this server's,
 * the request is refused. Behind a TLS proxy named by --trust-proxy, this server's own origin is the
 * one the proxy was asked for (X-Forwarded-Proto and X-Forwarded-Host, believed from that proxy only).
 */
export function registerOriginCheck(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!UNSAFE.has(request.method) || request.headers.origin === undefined || sameOrigin(request)) return;
    await refuse(reply, 403, 'cross_site_request', "a state-changing request must come from credport's own pages (Origin check)");
  });
}

/** The Origin a browser sends names this very server (scheme, host and port), as the client reached it. */
function sameOrigin(request: FastifyRequest): boolean {
  // Fastify's protocol and host read the X-Forwarded-* headers only from a trusted proxy's address.
  return request.headers.origin === `${request.protocol}://${request.host}`;
}
