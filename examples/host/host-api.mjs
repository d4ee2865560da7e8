// The host's back end: it holds credport's API token and talks to credport only through the typed
// client (credport/client). The page asks it for a connect session's token and hands it to Connect;
// it never sees the API token, and neither the page nor this back end ever sees a credential's secret.
import { CredportProblem } from 'credport/client';

/** The signed-in user of this demo host. A real host takes this from its own login session. */
export const END_USER = { id: 'enduser-1', displayName: 'Demo End User' };
const MODES = new Set(['create', 'pick', 'reconnect']);
const CREDENTIAL_ID = /^cred_[a-z0-9]{16,32}$/;
const SESSION_ID = /^csn_[a-z0-9]{16,32}$/;
const SOURCE_ID = /^src_[a-z0-9]{16,32}$/;
/** What this host's data sources read from: Front (a session may list several connectors). */
const CONNECTORS = ['front'];
const MAX_BODY = 16 * 1024;

class HostError extends Error {
  constructor(status, code, detail) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

/**
 * The routes under /api/. `ownOrigin` is this app's origin: a POST must come from it (a page of
 * another site cannot mint sessions for our signed-in user), and the sessions allow only it.
 */
export function hostApi({ credport, ownOrigin }) {
  // The sessions this back end minted: it shows their state to its own page, and nobody else's.
  const minted = new Set();
  let destinationId;

  const routes = {
    'POST /api/connect-session': async (request) => {
      const body = await readJson(request);
      const mode = body.mode ?? 'create';
      if (!MODES.has(mode)) throw new HostError(400, 'bad_mode', 'mode is create, pick or reconnect');
      const session = { endUser: END_USER, allowedOrigins: [ownOrigin], mode };
      if (mode === 'reconnect') {
        // Only a credential of the signed-in end user: the page's word is not enough.
        const tile = await ownTile(body.credentialId);
        session.credentialId = tile.id;
      } else {
        session.connectors = CONNECTORS;
      }
      const created = await credport.createConnectSession({ body: session });
      minted.add(created.id);
      // The token only: the page needs nothing else (the Connect page learns the rest when it exchanges it).
      return { status: 201, body: { token: created.token } };
    },
    'GET /api/connect-session/:id': async (_request, id) => {
      if (!SESSION_ID.test(id) || !minted.has(id)) throw new HostError(404, 'not_found', 'no such connect session of this host');
      const session = await credport.getConnectSession({ path: { id } });
      return { status: 200, body: { id: session.id, mode: session.mode, state: session.state, outcome: session.outcome } };
    },
    'POST /api/sources': async (request) => {
      const body = await readJson(request);
      const tile = await ownTile(body.credentialId);
      const source = await credport.createSource({
        body: { name: `${tile.name} (${tile.connector})`, connector: tile.connector, credentialId: tile.id },
      });
      return { status: 201, body: sourceView(source, tile) };
    },
    'GET /api/sources': async () => {
      const sources = await credport.listSources({ query: { limit: 100 } });
      return { status: 200, body: sources.map((source) => sourceView(source)) };
    },
    'POST /api/sources/:id/sync': async (request, id) => {
      await readJson(request);
      if (!SOURCE_ID.test(id)) throw new HostError(404, 'not_found', 'no such source');
      destinationId ??= (
        await credport.createDestination({ body: { name: 'Host example files', connector: 'jsonl', path: 'host-example' } })
      ).id;
      const started = await credport.startSync({ body: { source: id, destination: destinationId } });
      // The sync's events end with finished or failed; then its record has the summary.
      let events = 0;
      for await (const _event of credport.getSyncEvents({ path: { id: started.id } })) events += 1;
      const sync = await credport.getSync({ path: { id: started.id } });
      return {
        status: 200,
        body: {
          id: sync.id,
          source: sync.source,
          status: sync.status,
          records: sync.summary?.records ?? 0,
          events,
          error: sync.error?.message,
        },
      };
    },
  };

  /** A tile of the signed-in end user (made through one of its connect sessions), else 404 as if it did not exist. */
  async function ownTile(credentialId) {
    if (typeof credentialId !== 'string' || !CREDENTIAL_ID.test(credentialId))
      throw new HostError(400, 'bad_credential', 'credentialId is a credential id (cred_...)');
    const tile = await credport.getCredential({ path: { id: credentialId } });
    if (tile.endUserId !== END_USER.id) throw new HostError(404, 'not_found', 'no such credential of yours');
    return tile;
  }

  return async (request, response, url) => {
    try {
      const [route, id] = match(request.method, url.pathname);
      const handler = routes[route];
      if (!handler) throw new HostError(404, 'not_found', `no route ${request.method} ${url.pathname}`);
      if (request.method === 'POST') checkSameOrigin(request, ownOrigin);
      const { status, body } = await handler(request, id);
      send(response, status, body);
    } catch (error) {
      if (error instanceof HostError) return send(response, error.status, { code: error.code, detail: error.message });
      // credport's refusal, in its words (a problem never carries a secret); its outages are ours to report.
      if (error instanceof CredportProblem)
        return send(response, error.status >= 500 ? 502 : error.status, { code: error.code, detail: error.detail });
      throw error;
    }
  };
}

function match(method, path) {
  const parts = path.split('/');
  // /api/connect-session/:id and /api/sources/:id/sync: the id's place in the route's name.
  if (parts.length === 4 && parts[2] === 'connect-session') return [`${method} /api/connect-session/:id`, parts[3]];
  if (parts.length === 5 && parts[2] === 'sources' && parts[4] === 'sync') return [`${method} /api/sources/:id/sync`, parts[3]];
  return [`${method} ${path}`, undefined];
}

/**
 * A POST must come from this app's own page: the browser sets Origin on every POST, and a JSON body
 * cannot be sent across sites without a preflight this server never answers.
 */
function checkSameOrigin(request, ownOrigin) {
  if (request.headers.origin !== ownOrigin) throw new HostError(403, 'cross_origin', "requests come from this app's own page only");
  if (!/^application\/json\b/.test(request.headers['content-type'] ?? ''))
    throw new HostError(415, 'not_json', 'send JSON (content-type: application/json)');
}

async function readJson(request) {
  let text = '';
  for await (const chunk of request) {
    text += chunk;
    if (text.length > MAX_BODY) throw new HostError(413, 'too_large', 'the body is larger than 16 KiB');
  }
  if (text === '') return {};
  try {
    const body = JSON.parse(text);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    return body;
  } catch {
    throw new HostError(400, 'bad_json', 'the body is not a JSON object');
  }
}

function sourceView(source, tile) {
  return { id: source.id, name: source.name, connector: source.connector, credentialId: source.credentialId, ...(tile ? { tile } : {}) };
}

function send(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}
