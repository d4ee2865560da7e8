import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The two sites of an SDK test, and a third origin, all on loopback and none of them credport:
 * - the host on 127.0.0.2: its page (under a strict CSP: scripts and styles from itself only,
 *   frames from the fake Connect origin and the third only) and the built SDK at /sdk/connect.js;
 * - a fake Connect page on 127.0.0.1 at /connect/csn_..., framed only by the host (frame-ancestors);
 * - another origin on 127.0.0.1 (another port) at /thief, which a test sends the Connect frame to.
 */
export interface SdkSites {
  hostOrigin: string;
  connectOrigin: string;
  thiefOrigin: string;
  close(): Promise<void>;
}

const FIXTURES = new URL('../fixtures/connect-sdk/', import.meta.url);
const SDK = new URL('../../dist/sdk/connect.js', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');

type Files = Record<string, (path: string) => { type: string; body: string; headers?: Record<string, string> }>;

async function serve(address: string, files: Files): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://fixture').pathname;
    const file = files[path] ?? (path.startsWith('/connect/csn_') ? files['/connect/'] : undefined);
    if (!file) return void res.writeHead(404).end();
    const { type, body, headers } = file(path);
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', ...headers }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return { server, origin: `http://${address}:${(server.address() as AddressInfo).port}` };
}

const html = 'text/html; charset=utf-8';
const js = 'text/javascript; charset=utf-8';

export async function startSdkSites(): Promise<SdkSites> {
  const origins = { host: '', connect: '', thief: '' };
  const host = await serve('127.0.0.2', {
    '/': () => ({
      type: html,
      body: read('host.html'),
      headers: {
        'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; frame-src ${origins.connect} ${origins.thief}`,
      },
    }),
    '/host.js': () => ({ type: js, body: read('host.js') }),
    '/sdk/connect.js': () => ({ type: js, body: readFileSync(SDK, 'utf8') }),
  });
  const connect = await serve('127.0.0.1', {
    // A session of another host (csn_elsewhere...): its page may be framed only by that host.
    '/connect/': (path) => {
      const allowed = path.startsWith('/connect/csn_elsewhere') ? 'https://app.example.com' : origins.host;
      return {
        type: html,
        body: read('page.html').replace('{{ALLOWED_ORIGINS}}', allowed).replace('{{THIEF_ORIGIN}}', origins.thief),
        headers: { 'content-security-policy': `frame-ancestors ${allowed}` },
      };
    },
    '/page.js': () => ({ type: js, body: read('page.js') }),
  });
  const thief = await serve('127.0.0.1', {
    '/thief': () => ({ type: html, body: read('thief.html') }),
    '/thief.js': () => ({ type: js, body: read('thief.js') }),
  });
  origins.host = host.origin;
  origins.connect = connect.origin;
  origins.thief = thief.origin;
  return {
    hostOrigin: host.origin,
    connectOrigin: connect.origin,
    thiefOrigin: thief.origin,
    close: async () => {
      for (const { server } of [host, connect, thief]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
}
