// A host's web app embedding credport Connect: this file serves the page and its back end.
//
//   node examples/host/server.mjs --credport http://127.0.0.1:8737 --token cpt_... [--host 127.0.0.2] [--port 8080]
//
// (or CREDPORT_URL, CREDPORT_API_TOKEN, HOST, PORT). The API token stays here, in the back end: the
// page only ever holds a connect session's token, for the moment it takes to hand it to the Connect page.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createCredportClient } from 'credport/client';
import { hostApi } from './host-api.mjs';
import { pageHeaders, renderIndex } from './page.mjs';

const { values } = parseArgs({
  options: {
    credport: { type: 'string', default: process.env.CREDPORT_URL },
    token: { type: 'string', default: process.env.CREDPORT_API_TOKEN },
    host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
    port: { type: 'string', default: process.env.PORT ?? '8080' },
  },
});
if (!values.credport || !values.token) {
  console.error(
    'usage: node examples/host/server.mjs --credport <credport serve URL> --token <API token> [--host 127.0.0.2] [--port 8080]',
  );
  console.error('(or CREDPORT_URL and CREDPORT_API_TOKEN; a token on a shared machine belongs in the variable, not in argv)');
  process.exit(2);
}
const credportOrigin = new URL(values.credport).origin;
const credport = createCredportClient({ baseUrl: credportOrigin, token: values.token });

const server = createServer((request, response) => {
  handle(request, response).catch((error) => {
    // A bug of this example, not credport's answer: say so without echoing anything of the request.
    console.error(error);
    if (!response.headersSent) send(response, 500, { code: 'internal', detail: 'the host example failed; see its terminal' });
  });
});

const port = Number.parseInt(values.port, 10);
await new Promise((resolve) => server.listen(port, values.host, resolve));
const address = server.address();
const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
/** This app's own origin: the only origin its connect sessions allow to frame the Connect page and hand it the token. */
const ownOrigin = `http://${host}:${address.port}`;
const api = hostApi({ credport, ownOrigin });
const assets = {
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};
console.log(JSON.stringify({ event: 'listening', url: ownOrigin, credport: credportOrigin }));

async function handle(request, response) {
  const url = new URL(request.url ?? '/', ownOrigin);
  if (url.pathname.startsWith('/api/')) return api(request, response, url);
  if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, { code: 'method_not_allowed', detail: 'GET only' });
  const headers = pageHeaders(credportOrigin);
  if (url.pathname === '/') {
    const html = renderIndex(await readFile(new URL('index.html', import.meta.url), 'utf8'), credportOrigin);
    response.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' });
    return response.end(html);
  }
  const asset = assets[url.pathname];
  if (!asset) return send(response, 404, { code: 'not_found', detail: `no page ${url.pathname}` });
  response.writeHead(200, { ...headers, 'content-type': asset.type });
  response.end(await readFile(new URL(asset.file, import.meta.url)));
}

function send(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.close(() => process.exit(0)));
