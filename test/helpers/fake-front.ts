import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export type Mode = 'ok' | 'error500' | 'hang' | 'not-json' | 'no-identity' | 'echo-token' | 'slow';

/**
 * A small loopback stand-in for Front's /me, answering as Front's spec does:
 * `{ _links, id, name }` for a known token, the `_error` envelope otherwise.
 */
export class FakeFront {
  readonly seen: SeenRequest[] = [];
  readonly tokens = new Map<string, { id: string; name: string }>();
  mode: Mode = 'ok';
  /** Extra routes for a test's own answers (a redirect, a page link). */
  readonly routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  private server!: Server;
  url = '';

  static async start(): Promise<FakeFront> {
    const fake = new FakeFront();
    fake.server = createServer((req, res) => fake.handle(req, res));
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  allow(token: string, company = { id: 'cmp_k30', name: 'Dunder Mifflin Paper Company, Inc.' }): void {
    this.tokens.set(token, company);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Holds the next request until `release()`: the test changes the store while the provider is
   * "answering", at a moment it controls rather than one a sleep hopes to hit.
   */
  hold(): { requested: Promise<void>; release: () => void } {
    let arrived!: () => void;
    let release!: () => void;
    const requested = new Promise<void>((resolve) => (arrived = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.held = { arrived, released };
    return { requested, release };
  }

  private held: { arrived: () => void; released: Promise<void> } | undefined;

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const held = this.held;
    if (held) {
      this.held = undefined;
      held.arrived();
      void held.released.then(() => this.answer(req, res));
      return;
    }
    this.answer(req, res);
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    this.seen.push({ method: req.method ?? 'GET', path, authorization: req.headers.authorization });
    const route = this.routes.get(path);
    if (route) return route(req, res);
    if (this.mode === 'hang') return; // never answers: the client's timeout must end it
    if (this.mode === 'error500') return json(res, 500, { _error: { status: 500, title: 'Internal Server Error', message: 'Something went wrong' } });
    if (path !== '/me') return json(res, 404, { _error: { status: 404, title: 'Not found', message: `No route ${path}` } });
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const company = token ? this.tokens.get(token) : undefined;
    if (!company) return json(res, 401, { _error: { status: 401, title: 'Unauthenticated', message: 'Invalid token' } });
    if (this.mode === 'not-json') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return void res.end('<html>login</html>');
    }
    if (this.mode === 'no-identity') return json(res, 200, { _links: {} });
    // A hostile or buggy provider: the token, terminal escapes and a bidi override in the identity.
    if (this.mode === 'echo-token') return json(res, 200, { _links: {}, id: company.id, name: `Hello ${token} \u009b31m\u202Eevil` });
    if (this.mode === 'slow') {
      setTimeout(() => json(res, 200, { _links: {}, id: company.id, name: company.name }), 300);
      return;
    }
    json(res, 200, { _links: { self: `${this.url}/me` }, id: company.id, name: company.name });
  }
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
