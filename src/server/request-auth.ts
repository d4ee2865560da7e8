import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sameSecret } from './api-token.js';
import { type Access, DEFAULT_WORKSPACE } from '../access/access.js';
import { type AccessTokens, tokenActor } from '../access/access-tokens.js';
import type { ConnectSessions } from '../connect/connect-sessions.js';
import { LoginSessions } from './login-sessions.js';

export interface RequestAuthOptions {
  apiToken: string;
  sessions: LoginSessions;
  /** Tokens scoped to a workspace with a role, besides the server's own API token. */
  tokens?: AccessTokens;
  /** Connect sessions, whose bearers (ccb_...) act for an end user within their grant. */
  connect?: ConnectSessions;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling: a program with the API token, or a browser session (by its id, never its secret). */
    caller?: { kind: 'token'; id?: string } | { kind: 'session'; id: string } | { kind: 'connect'; id: string; endUserId: string };
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

/**
 * Every /api request is authenticated by its Authorization header: the API token, a workspace's
 * token, or the session token the web app got for the login code. Nothing else counts (there is
 * no cookie): a header is sent only by code that holds the token, never by the browser on its own.
 */
export function registerRequestAuth(app: FastifyInstance, options: RequestAuthOptions): void {
  // Declared before any request has them, as Fastify asks: every request starts with the same shape.
  for (const name of ['caller', 'access', 'stillAuthenticated'] as const) app.decorateRequest(name, undefined);
  app.addHook('onRequest', async (request, reply) => {
    const token = bearerOf(request);
    if (token === undefined)
      return refuse(
        reply,
        401,
        'unauthenticated',
        'sign in: send the API token as Authorization: Bearer, or open the link credport serve printed',
      );
    if (sameSecret(token, options.apiToken)) {
      request.caller = { kind: 'token' };
      request.access = OPERATOR;
      return;
    }
    if (LoginSessions.isSessionToken(token)) {
      const id = options.sessions.valid(token);
      if (id === undefined)
        return refuse(
          reply,
          401,
          'unauthenticated',
          'the browser session has ended (signed out, idle for 12 hours, or the server restarted): open the link credport serve printed',
        );
      request.caller = { kind: 'session', id };
      request.access = OPERATOR;
      request.stillAuthenticated = async () => options.sessions.valid(token) !== undefined;
      return;
    }
    if (token.startsWith('ccb_') && options.connect) {
      const connect = options.connect;
      const access = await connect.authenticate(token);
      if (!access?.connect)
        return refuse(reply, 401, 'unauthenticated', 'the connect session has ended (expired or revoked), or this bearer is not valid');
      request.caller = { kind: 'connect', id: access.connect.sessionId, endUserId: access.connect.endUserId };
      request.access = access;
      request.stillAuthenticated = async () => (await connect.authenticate(token)) !== undefined;
      return;
    }
    const scoped = await options.tokens?.find(token);
    if (!scoped) return refuse(reply, 401, 'unauthenticated', 'the API token is not valid');
    request.caller = { kind: 'token', id: scoped.id };
    request.access = { workspace: scoped.workspace, role: scoped.role, confined: true };
    request.stillAuthenticated = async () => (await options.tokens!.find(token))?.id === scoped.id;
  });
}

/** The token of an `Authorization: Bearer <token>` header; '' for any other Authorization, undefined without one. */
export function bearerOf(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization === undefined) return undefined;
  return /^Bearer (\S+)$/i.exec(authorization)?.[1] ?? '';
}

export async function refuse(reply: FastifyReply, status: 401 | 403, code: string, detail: string): Promise<void> {
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="credport"');
  await reply
    .code(status)
    .type('application/problem+json')
    .send({
      type: `https://credport.dev/problems/${code}`,
      title: status === 401 ? 'Not signed in' : 'Forbidden',
      status,
      detail,
      code,
      exitCode: 2,
    });
}

/** The caller as the audit trail names it: the session by a hash of its id (the token itself is a secret). */
export function actorOf(request: FastifyRequest): string {
  const caller = request.caller;
  if (!caller) return 'api:anonymous';
  if (caller.kind === 'token') return caller.id ? tokenActor(caller.id) : 'api:token';
  if (caller.kind === 'connect') return `connect:${caller.endUserId}`;
  return `api:session:${createHash('sha256').update(caller.id).digest('hex').slice(0, 12)}`;
}
