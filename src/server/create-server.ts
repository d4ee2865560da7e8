import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Credport } from '../open-credport.js';
import { VERSION } from '../package-info.js';
import { ANNOTATION_KEYWORDS } from '../registry/create-ajv.js';
import { addSharedSchemas } from './api-schemas.js';
import type { DemoProvider } from './demo-providers.js';
import type { LoginSessions } from './login-sessions.js';
import { notFoundProblem, problemFor } from './problem-details.js';
import { registerHostCheck } from './host-check.js';
import { actorOf, refuseCrossSite, registerRequestAuth, sameOrigin, SESSION_COOKIE } from './request-auth.js';
import { withAccess } from '../access/access.js';
import { withActor } from '../audit/audit-log.js';
import { configRoutes } from './routes/configs.js';
import { connectorRoutes } from './routes/connectors.js';
import { credentialRoutes, type VerifyLimit } from './routes/credentials.js';
import { auditRoutes } from './routes/audit.js';
import { tokenRoutes } from './routes/tokens.js';
import { syncRoutes } from './routes/syncs.js';
import { registerSecurityHeaders, securityHeaders } from './security-headers.js';
import { type RunSync, SyncJobs } from './sync-jobs.js';

export interface ServerOptions {
  credport: Credport;
  apiToken: string;
  sessions: LoginSessions;
  /** Origins allowed to frame the web app (a host's page embedding the overlay). */
  frameAncestors?: string[];
  /** Folder of the built web app; default dist/web beside this module's package. */
  webRoot?: string;
  /** Provider-verifying requests (create, test, rotate) per caller per window. */
  verifyLimit?: VerifyLimit;
  /** `serve --demo`: the emulators the web app offers, per connector. */
  demo?: Record<string, DemoProvider>;
  /** How POST /syncs runs a sync: in this process (default), or on the queue (CREDPORT_QUEUE). */
  runSync?: RunSync;
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
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    // Unknown fields are refused by name, never stripped; nothing is coerced or defaulted behind the caller's back.
    // Our annotations (x-pattern-message) are known words, so the shared text rule can be used by a route.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, keywords: [...ANNOTATION_KEYWORDS] } },
    // A `__proto__` key stays an own property, so the schema and the services refuse it under its own name.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    logger: false,
    // A URL the router cannot decode is answered before any hook runs: give it the headers and a problem too.
    frameworkErrors: (error, request, reply) => {
      const problem = problemFor(error, undefined);
      void (reply as FastifyReply).headers(headers).code(problem.status).type('application/problem+json').send(problem);
    },
  });
  // JSON bodies only: a form post or text/plain body (what a cross-site form can send) gets 415.
  app.removeContentTypeParser(['text/plain']);
  registerSecurityHeaders(app, headers);
  registerHostCheck(app);
  app.setErrorHandler(async (error, request, reply) => {
    const problem = problemFor(error, request.body);
    return reply.code(problem.status).type('application/problem+json').send(problem);
  });
  await app.register(cookie);
  // Counted after authentication (preParsing runs after the onRequest hooks), keyed by who was
  // authenticated: a key read from raw headers let a token holder send a fresh cookie each time.
  await app.register(rateLimit, { global: false, hook: 'preParsing', keyGenerator: (request) => callerKey(request) });
  await addSharedSchemas(app, SCHEMA_DIR);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'credport', version: VERSION, description: 'Credentials for data-integration hosts: defined by JSON Schema, verified with the provider, sealed at rest. Every request needs the API token (Bearer) or a browser session.' },
      servers: [{ url: '/' }],
      components: { securitySchemes: { apiToken: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE } } },
      security: [{ apiToken: [] }, { session: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.title === 'string' ? json.title : `def-${i}`) },
  });

  const jobs = new SyncJobs(options.runSync ?? ((source, destination, runOptions) => credport.syncs.run(source, destination, runOptions)));
  const verifyLimit = options.verifyLimit ?? { max: 30, timeWindow: 60_000 };
  await app.register(
    async (api) => {
      registerRequestAuth(api, { apiToken: options.apiToken, sessions: options.sessions, tokens: credport.tokens });
      // Everything a request does is done by its caller, in its workspace and role, and so it shows in
      // the audit trail (the rest of the request runs inside these).
      api.addHook('onRequest', (request, _reply, done) => withActor(actorOf(request), () => withAccess(request.access!, done)));
      api.addHook('onSend', async (_request, reply) => {
        reply.header('cache-control', 'no-store');
      });
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
      await api.register(connectorRoutes(credport.registry));
      await api.register(credentialRoutes(credport.credentials, verifyLimit));
      await api.register(configRoutes(credport.configs));
      await api.register(syncRoutes(credport.syncs, jobs));
      await api.register(auditRoutes(credport.audit));
      await api.register(tokenRoutes(credport.tokens));
      // The emulators `serve --demo` started, for the web app to offer; a 404 otherwise.
      api.get('/demo', { schema: { hide: true } }, async (_request, reply) =>
        options.demo ? { providers: options.demo } : reply.code(404).type('application/problem+json').send(notFoundProblem('not in demo mode (credport serve --demo)')),
      );
      api.setNotFoundHandler(async (request, reply) => {
        return reply.code(404).type('application/problem+json').send(notFoundProblem(`no route ${request.method} ${request.url.split('?')[0]!.slice(0, 120)}`));
      });
    },
    { prefix: API_PREFIX },
  );

  app.get('/login', { schema: { hide: true }, config: { rateLimit: { max: 20, timeWindow: 60_000 } } }, async (request, reply) => {
    const code = (request.query as { code?: unknown }).code;
    const session = typeof code === 'string' ? options.sessions.exchange(code) : undefined;
    if (!session) return reply.code(401).type('text/plain; charset=utf-8').send('This login link was used already or is not valid: each link works once. credport serve prints a new one whenever one is used.');
    reply.setCookie(SESSION_COOKIE, session, { httpOnly: true, sameSite: 'strict', path: '/', secure: request.protocol === 'https' });
    // The code leaves the address bar (and the history) at once.
    return reply.redirect('/', 303);
  });
  app.post('/logout', { schema: { hide: true } }, async (request, reply) => {
    // Another page on this host (any port is the same site) could otherwise end the session.
    if (!sameOrigin(request)) return refuseCrossSite(reply);
    options.sessions.end(request.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  // Outside /api too, a miss is a problem, and does not echo the URL to a caller nobody authenticated.
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).type('application/problem+json').send(notFoundProblem('no such page')));

  const webRoot = options.webRoot ?? DEFAULT_WEB_ROOT;
  if (existsSync(webRoot)) await app.register(fastifyStatic, { root: webRoot, index: ['index.html'], wildcard: false });
  else app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.type('text/plain; charset=utf-8').send(`credport ${VERSION}: the web app is not built (npm run build:web); the API is at ${API_PREFIX}`));
  return { app, jobs };
}

/** Rate limits count per authenticated caller: the browser session, else the token, else (login) the address. */
function callerKey(request: FastifyRequest): string {
  const caller = request.caller;
  if (caller?.kind === 'session') return `session:${caller.id}`;
  // Each workspace token its own bucket: one tenant's attempts must not use up another's.
  if (caller?.kind === 'token') return `token:${caller.id ?? 'server'}`;
  return `ip:${request.ip}`;
}
