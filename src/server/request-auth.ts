import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sameSecret } from './api-token.js';
import { type Access, DEFAULT_WORKSPACE } from '../access/access.js';
import type { AccessTokens } from '../access/access-tokens.js';
import type { LoginSessions } from './login-sessions.js';

export const SESSION_COOKIE = 'credport_session';

export interface RequestAuthOptions {
  apiToken: string;
  sessions: LoginSessions;
  /** Tokens scoped to a workspace with a role, besides the server's own API token. */
  tokens?: AccessTokens;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling: a program with the API token, or a browser session. */
    caller?: { kind: 'token'; id?: string } | { kind: 'session'; id: string };
    /** The workspace and role the caller acts in: the server's API token and a browser session are admins of the default workspace. */
    access?: Access;
    /**
     * Whether the credentials this request came with still authenticate it (a token not revoked, a
     * session not ended): asked again by a long-lived answer, an event stream. Absent: the server's
     * own API token, which lives as long as the server.
     */
    stillAuthenticated?: () => Promise<boolean>;
  }
}

// The server's own API token and the login link's sessions: whoever started `credport serve`.
const OPERATOR: Access = { workspace: DEFAULT_WORKSPACE, role: 'admin' };

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Every /api request is authenticated: the API token as a Bearer header, or the session cookie
 * the login code was swapped for. A cookie rides along on any request the browser makes, so a
 * state-changing request with one must also come from this server's own pages (Origin check).
 */
export function registerRequestAuth(app: FastifyInstance, options: RequestAuthOptions): void {
  app.addHook('onRequest', async (request, reply) => {
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const token = /^Bearer (\S+)$/i.exec(authorization)?.[1];
      if (token && sameSecret(token, options.apiToken)) {
        request.caller = { kind: 'token' };
        request.access = OPERATOR;
        return;
      }
      const scoped = token ? await options.tokens?.find(token) : undefined;
      if (!scoped) return refuse(reply, 401, 'unauthenticated', 'the API token is not valid');
      request.caller = { kind: 'token', id: scoped.id };
      request.access = { workspace: scoped.workspace, role: scoped.role, confined: true };
      request.stillAuthenticated = async () => (await options.tokens!.find(token!))?.id === scoped.id;
      return;
    }
    const session = request.cookies[SESSION_COOKIE];
    if (!session || !options.sessions.valid(session)) {
      return refuse(reply, 401, 'unauthenticated', 'sign in: send the API token as Authorization: Bearer, or open the URL credport serve printed');
    }
    if (UNSAFE.has(request.method) && !sameOrigin(request)) return refuseCrossSite(reply);
    request.caller = { kind: 'session', id: session };
    request.access = OPERATOR;
    request.stillAuthenticated = async () => options.sessions.valid(session);
  });
}

/** The Origin a browser sends must name this very server (scheme, host and port). */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (!origin || origin === 'null') return false;
  return origin === `${request.protocol}://${request.headers.host ?? ''}`;
}

export function refuseCrossSite(reply: FastifyReply): Promise<void> {
  return refuse(reply, 403, 'cross_site_request', "a state-changing request must come from credport's own pages (Origin check)");
}

async function refuse(reply: FastifyReply, status: 401 | 403, code: string, detail: string): Promise<void> {
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="credport"');
  await reply
    .code(status)
    .type('application/problem+json')
    .send({ type: `https://credport.dev/problems/${code}`, title: status === 401 ? 'Not signed in' : 'Forbidden', status, detail, code, exitCode: 2 });
}

/** The caller as the audit trail names it: the session by a hash (the cookie itself is a secret). */
export function actorOf(request: FastifyRequest): string {
  const caller = request.caller;
  if (!caller) return 'api:anonymous';
  if (caller.kind === 'token') return caller.id ? `api:token:${caller.id}` : 'api:token';
  return `api:session:${createHash('sha256').update(caller.id).digest('hex').slice(0, 12)}`;
}
