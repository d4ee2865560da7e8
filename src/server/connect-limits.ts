import type { FastifyInstance } from 'fastify';
import { refuse } from './request-auth.js';

/**
 * The routes a connect session's bearer may call: its connectors and their forms, listing, adding,
 * testing and rotating credentials, and reporting the tile its end user picked (the services then
 * keep it to its connectors, its end user and its workspace).
 * Every other route (tokens, audit, sources, syncs, sessions, one tile by id...) is refused before
 * it runs, so a route added later is closed to end users until it is named here.
 */
const CONNECT_ROUTES = [
  'GET /connectors',
  'GET /connectors/:id/form',
  'GET /credentials',
  'POST /credentials',
  'POST /credentials/:id/test',
  'POST /credentials/:id/rotate',
  'POST /connect/selection',
];

/** `prefix`: where the API's routes are mounted (/api/v1), as the route's URL carries it. */
export function registerConnectLimits(app: FastifyInstance, prefix: string): void {
  const allowed = new Set(CONNECT_ROUTES.map((route) => route.replace(' ', ` ${prefix}`)));
  app.addHook('onRequest', async (request, reply) => {
    if (request.caller?.kind !== 'connect') return;
    if (allowed.has(`${request.method} ${request.routeOptions.url ?? ''}`)) return;
    return refuse(
      reply,
      403,
      'forbidden',
      "a connect session's bearer may only read its connectors' forms, list, add, test and rotate their credentials, and report a " +
        'pick; this route is not for it',
    );
  });
}
