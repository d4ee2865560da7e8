// The HTTP API as the server tests stand it up: a credport on a temporary home, `createServer` in
// this process, listening on loopback, and one teardown in the order that frees everything (the
// syncs it started, the server, the store, the folder). One place, so a new server test starts
// from the same ground as the others and a change to the set-up lands in all of them.
import { type Credport, type CredportOptions, openCredport } from '../../src/open-credport.js';
import { createServer, type ServerOptions } from '../../src/server/create-server.js';
import { LoginSessions } from '../../src/server/login-sessions.js';
import type { SyncJobs } from '../../src/server/sync-jobs.js';
import { removeHome, tempHome } from './temp-home.js';
import type { JsonBody } from './json-body.js';

/** The operator's token of every server test (`Authorization: Bearer API_TOKEN`). */
export const API_TOKEN = 'test-api-token-0123456789abcdef';

/** No retries and a short timeout: a provider's refusal is seen at once, and a test never waits out a backoff. */
const QUICK_HTTP = { CREDPORT_HTTP_RETRIES: '0', CREDPORT_HTTP_TIMEOUT_MS: '2000' } as const;

export interface ListeningApi {
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  port: number;
  sessions: LoginSessions;
  jobs: SyncJobs;
  /** Stops the syncs the server started, then the server (the credport stays open). */
  stop: () => Promise<void>;
}

/**
 * Serves `credport`'s API on a free loopback port, with API_TOKEN and fresh login sessions unless
 * `options` says otherwise.
 */
export async function listenApi(credport: Credport, options: Partial<ServerOptions> = {}): Promise<ListeningApi> {
  const sessions = options.sessions ?? new LoginSessions();
  const server = await createServer({ credport, apiToken: API_TOKEN, sessions, ...options });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.app.server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    sessions,
    jobs: server.jobs,
    stop: async () => {
      await server.jobs.stopAll();
      await server.app.close();
    },
  };
}

export interface ApiUnderTest extends ListeningApi {
  home: string;
  credport: Credport;
  /** Stops the server, closes the credport and removes its home. */
  close: () => Promise<void>;
}

/**
 * A credport on a new temporary home (env QUICK_HTTP unless `open.env` is given) served by
 * `listenApi`; `close` undoes all of it.
 */
export async function startApi(
  options: { open?: Omit<CredportOptions, 'home'>; server?: Partial<ServerOptions> } = {},
): Promise<ApiUnderTest> {
  const home = await tempHome();
  const credport = await openCredport({ home, env: { ...QUICK_HTTP }, ...options.open });
  const api = await listenApi(credport, options.server);
  return {
    ...api,
    home,
    credport,
    close: async () => {
      await api.stop();
      await credport.close();
      await removeHome(home);
    },
  };
}

/** What a test reads of an API answer: the status, the headers and the parsed JSON body (if any). */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: JsonBody;
}

/** One JSON request to the API at `url` as a caller holding `token` (the server's own API token unless named). */
export async function callApi(
  url: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? API_TOKEN}` };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}
