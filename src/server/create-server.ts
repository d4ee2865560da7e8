import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { requestIdFor } from '../logging/request-id.js';
import type { Credport } from '../open-credport.js';
import { LICENSE, VERSION } from '../package-info.js';
import { compileRouteSchema } from '../registry/request-schemas.js';
import { addSharedSchemas } from './api-schemas.js';
import { connectionLimits, type ConnectionLimits, limitedServer } from './connection-limits.js';
import type { DemoProvider } from './demo-providers.js';
import type { LoginSessions } from './login-sessions.js';
import { connectorBodies } from './openapi-connector-bodies.js';
import { documentWithComponents } from './openapi-document.js';
import { notFoundProblem, problemFor } from './problem-details.js';
import { registerHostCheck } from './host-check.js';
import { registerOriginCheck } from './origin-check.js';
import { registerRequestLogging } from './request-logging.js';
import { registerRequestTracing } from './request-tracing.js';
import { actorOf, registerRequestAuth } from './request-auth.js';
import { withAccess } from '../access/access.js';
import { withActor } from '../audit/audit-log.js';
import { configRoutes } from './routes/configs.js';
import { connectorRoutes } from './routes/connectors.js';
import { credentialRoutes, type VerifyLimit } from './routes/credentials.js';
import { auditRoutes } from './routes/audit.js';
import { sessionEndRoute, sessionExchangeRoute } from './routes/session.js';
import { tokenRoutes } from './routes/tokens.js';
import { connectExchangeRoute, connectSessionRoutes } from './routes/connect.js';
import { connectPageRoutes } from './routes/connect-page.js';
import { registerConnectLimits } from './connect-limits.js';
import { syncRoutes } from './routes/syncs.js';
import { webhookRoutes } from './routes/webhooks.js';
import { registerSecurityHeaders, securityHeaders } from './security-headers.js';
import { type RunSync, SyncJobs } from './sync-jobs.js';
import type { CredportMetrics } from '../metrics/credport-metrics.js';
import type { Readiness } from '../metrics/readiness.js';
import { probeRoutes } from './routes/probes.js';

export interface ServerOptions {
  credport: Credport;
  apiToken: string;
  sessions: LoginSessions;
  /** Origins allowed to frame the web app (a host's page embedding the overlay). */
  frameAncestors?: string[];
  /** Folder of the built web app; default dist/web beside this module's package. */
  webRoot?: string;
  /** Provider-verifying requests (create, test, rotate) per caller (a workspace's tokens share one) per window. */
  verifyLimit?: VerifyLimit;
  /** Timeouts for slow or idle clients and a cap on open connections; DEFAULT_CONNECTION_LIMITS where not given. */
  limits?: Partial<ConnectionLimits>;
  /** How often an event stream re-checks that its caller may still read it (a revoked token's stream ends); default 2 s. */
  streamRecheckMs?: number;
  /** `serve --demo`: the emulators the web app offers, per connector. */
  demo?: Record<string, DemoProvider>;
  /** How POST /syncs runs a sync: in this process (default), or on the queue (CREDPORT_QUEUE). */
  runSync?: RunSync;
  /**
   * Addresses or CIDRs of the reverse proxies (`--trust-proxy`) whose X-Forwarded-Proto and
   * X-Forwarded-Host say how the client reached this server; from any other address they are ignored.
   */
  trustProxy?: string[];
  /** /metrics (the server's own API token only), /healthz and /readyz (no auth): the process's metrics and probes. */
  probes?: { metrics: CredportMetrics; readiness: Readiness };
  /** `serve --log-format json`: Fastify logs through it, one line a request (request-logging.ts); none without it. */
  logger?: Logger;
}

export const API_PREFIX = '/api/v1';
const BODY_LIMIT = 64 * 1024;
const SCHEMA_DIR = fileURLToPath(new URL('../../schemas', import.meta.url));
const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../web', import.meta.url));

/**
 * The HTTP shell over the same services the CLI calls. Fastify validates bodies and serialises
 * answers with schemas/ (by $id), and the OpenAPI document is generated from the same routes.
 */
export async function createServer(options: ServerOptions): Promise<{ app: FastifyInstance; jobs: SyncJobs }> {
  const { credport } = options;
  const headers = securityHeaders({ frameAncestors: options.frameAncestors ?? [] });
  const limits = connectionLimits(options.limits);
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    // A slow or silent client is cut off, and connections are capped (see connection-limits.ts).
    serverFactory: limitedServer(limits),
    // A `__proto__` key stays an own property, so the schema and the services refuse it under its own name.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    // Without one, Fastify logs nothing (its null logger), as before --log-format json.
    loggerInstance: options.logger as FastifyBaseLogger | undefined,
    // The request id is ours alone (request-id.ts): a caller's header is taken only when fit to repeat.
    requestIdHeader: false,
    genReqId: (request) => requestIdFor(request.headers['x-request-id']),
    // Fastify's own per-request lines print the raw URL; request-logging.ts writes the one line instead.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: options.trustProxy?.length ? options.trustProxy : false,
    // A URL the router cannot decode is answered before any hook runs: give it the headers and a problem too.
    frameworkErrors: (error, _request, reply) => {
      const problem = problemFor(error);
      void (reply as FastifyReply).headers(headers).code(problem.status).type('application/problem+json').send(problem);
    },
  });
  // First, so that every answer (a refusal by the checks below too) carries its request id.
  registerRequestTracing(app);
  registerRequestLogging(app, options.logger !== undefined);
  // Routes validate with the services' own request validators (one ajv, schemas/ by $id, each compiled
  // once): unknown fields are refused by name, never stripped; nothing is coerced or defaulted behind
  // the caller's back; a refusal is worded as the services word it.
  app.setValidatorCompiler(({ schema, httpPart }) => compileRouteSchema(schema, httpPart));
  // JSON bodies only: a form post or text/plain body (what a cross-site form can send) gets 415.
  app.removeContentTypeParser(['text/plain']);
  registerSecurityHeaders(app, headers);
  registerHostCheck(app);
  registerOriginCheck(app);
  app.setErrorHandler(async (error, request, reply) => {
    const problem = problemFor(error, { body: request.body, params: request.params, query: request.query });
    // A failure of ours, not the caller's: logged with what it is (the serialiser keeps an error to its type, code and message).
    if (problem.status >= 500) request.log.error({ err: error }, 'request handler failed');
    return reply.code(problem.status).type('application/problem+json').send(problem);
  });
  // Counted after authentication (preParsing runs after the onRequest hooks), keyed by who was
  // authenticated: a key read from raw headers let a token holder send a fresh header each time.
  await app.register(rateLimit, { global: false, hook: 'preParsing', keyGenerator: (request) => callerKey(request) });
  const schemaFiles = await addSharedSchemas(app, SCHEMA_DIR);
  // The credential bodies typed per connector, from the connectors loaded now (a host's own folder included).
  const withComponents = documentWithComponents(schemaFiles, (base) => connectorBodies(credport.registry.list(), base));
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'credport',
        version: VERSION,
        license: { name: LICENSE, identifier: LICENSE },
        description:
          'Credentials for data-integration hosts: defined by JSON Schema, verified with the provider, sealed at rest. Every ' +
          "request needs the API token, or a browser session's token, as Authorization: Bearer.",
      },
      servers: [{ url: '/' }],
      components: { securitySchemes: { apiToken: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiToken: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.title === 'string' ? json.title : `def-${i}`) },
    // The routes' references, by title, point at schemas/ made into components that resolve inside the document.
    transformObject: (document) => ('openapiObject' in document ? withComponents(document.openapiObject) : document.swaggerObject),
  });

  const jobs = new SyncJobs(options.runSync ?? ((source, destination, runOptions) => credport.syncs.run(source, destination, runOptions)));
  const verifyLimit = options.verifyLimit ?? { max: 30, timeWindow: 60_000 };
  // Signing in: the one API route that takes no token (it hands one out).
  await app.register(sessionExchangeRoute(options.sessions), { prefix: API_PREFIX });
  // The Connect page's way in: a connect session's token is the credential, exchanged once.
  await app.register(connectExchangeRoute(credport.connect), { prefix: API_PREFIX });
  await app.register(
    // biome-ignore lint/nursery/noMisusedPromises: Fastify awaits an async plugin (its documented form)
    async (api) => {
      registerRequestAuth(api, {
        apiToken: options.apiToken,
        sessions: options.sessions,
        tokens: credport.tokens,
        connect: credport.connect,
      });
      registerConnectLimits(api, API_PREFIX);
      // Everything a request does is done by its caller, in its workspace and role, and so it shows in
      // the audit trail (the rest of the request runs inside these).
      api.addHook('onRequest', (request, _reply, done) => withActor(actorOf(request), () => withAccess(request.access!, done)));
      api.addHook('onSend', async (_request, reply) => {
        reply.header('cache-control', 'no-store');
      });
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
      await api.register(connectorRoutes(credport.connectors));
      await api.register(credentialRoutes(credport.credentials, verifyLimit));
      await api.register(configRoutes(credport.configs));
      await api.register(
        syncRoutes(credport.syncs, jobs, {
          // A keepalive well within the idle timeout, so a quiet sync's stream is not cut as idle.
          keepaliveMs: Math.min(15_000, Math.floor(limits.connectionTimeout / 3)),
          recheckMs: options.streamRecheckMs ?? 2_000,
        }),
      );
      await api.register(auditRoutes(credport.audit));
      await api.register(tokenRoutes(credport.tokens));
      await api.register(connectSessionRoutes(credport.connect));
      await api.register(webhookRoutes(credport.webhooks, credport.webhookDeliveries));
      await api.register(sessionEndRoute(options.sessions));
      // The emulators `serve --demo` started, for the web app to offer; a 404 otherwise.
      api.get('/demo', { schema: { hide: true } }, async (_request, reply) =>
        options.demo
          ? { providers: options.demo }
          : reply.code(404).type('application/problem+json').send(notFoundProblem('not in demo mode (credport serve --demo)')),
      );
      api.setNotFoundHandler(async (request, reply) => {
        return reply
          .code(404)
          .type('application/problem+json')
          .send(notFoundProblem(`no route ${request.method} ${request.url.split('?')[0]!.slice(0, 120)}`));
      });
    },
    { prefix: API_PREFIX },
  );

  if (options.probes) await app.register(probeRoutes({ ...options.probes, apiToken: options.apiToken }));

  // Outside /api too, a miss is a problem, and does not echo the URL to a caller nobody authenticated.
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).type('application/problem+json').send(notFoundProblem('no such page')));

  const webRoot = options.webRoot ?? DEFAULT_WEB_ROOT;
  // The page a host frames for one connect session (its own frame-ancestors), and the SDK that frames it.
  await app.register(connectPageRoutes({ connect: credport.connect, webRoot }));
  if (existsSync(webRoot)) await app.register(fastifyStatic, { root: webRoot, index: ['index.html'], wildcard: false });
  else
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/plain; charset=utf-8')
        .send(`credport ${VERSION}: the web app is not built (npm run build:web); the API is at ${API_PREFIX}`),
    );
  return { app, jobs };
}

/**
 * Rate limits count per authenticated caller: the browser session; a workspace token by its
 * workspace (an admin who makes more tokens gets no more attempts, and one tenant's attempts do not
 * use up another's); the server's own API token (signing in counts per code instead).
 */
function callerKey(request: FastifyRequest): string {
  const caller = request.caller;
  if (caller?.kind === 'session') return `session:${caller.id}`;
  // An end user's sessions share their workspace's budget: minting more sessions buys no more attempts.
  if (caller?.kind === 'connect') return `workspace:${request.access!.workspace}`;
  if (caller?.kind === 'token') return caller.id ? `workspace:${request.access!.workspace}` : 'token:server';
  return `ip:${request.ip}`;
}
