// Front stand-ins for what src/emulator/front-emulator.ts is not: a provider broken on purpose (one
// that hangs, answers HTML, echoes the token, or holds an answer until the test lets it go), and
// a /tags list with its own plain ids and page numbers for page tokens, so a test can name the
// exact page that fails. Anything Front does as Front does it belongs in the emulator, not here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson as json, startLoopback } from '../../src/emulator/loopback-server.js';

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
  url = '';
  private stopServer!: () => Promise<void>;

  static async start(): Promise<FakeFront> {
    const fake = new FakeFront();
    ({ url: fake.url, stop: fake.stopServer } = await startLoopback((req, res) => fake.handle(req, res)));
    return fake;
  }

  allow(token: string, company = { id: 'cmp_k30', name: 'Dunder Mifflin Paper Company, Inc.' }): void {
    this.tokens.set(token, company);
  }

  close(): Promise<void> {
    return this.stopServer();
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
    if (this.mode === 'hang') return; // never answers: the client's timeout must end it
    if (this.mode === 'error500')
      return json(res, 500, { _error: { status: 500, title: 'Internal Server Error', message: 'Something went wrong' } });
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

/**
 * Front's /tags as pages of 100 linked by `_pagination.next`, with no rate-limit headers; the
 * page token is the page's number ('1', '2', ...) and the ids `tag_0`, `tag_1`, ... so a test can
 * make one page fail once and then name every record it expects.
 */
export class FakeTagPages {
  count = 250;
  /** The page token answered 404 once (a sync stopped mid-stream), or undefined. */
  failOnce: string | undefined;
  /** The page token answered 503 once (an outage the client rides out), or undefined. */
  busyOnce: string | undefined;
  readonly seen: URL[] = [];
  url = '';
  private stopServer!: () => Promise<void>;

  async start(): Promise<void> {
    ({ url: this.url, stop: this.stopServer } = await startLoopback((req, res) => this.answer(req, res)));
  }

  stop(): Promise<void> {
    return this.stopServer();
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    this.seen.push(url);
    const token = url.searchParams.get('page_token') ?? '0';
    if (url.pathname !== '/tags') return json(res, 404, { _error: { status: 404, title: 'Not found', message: url.pathname } });
    if (token === this.busyOnce) {
      this.busyOnce = undefined;
      return json(res, 503, { _error: { status: 503, title: 'Service Unavailable', message: 'try again' } }, { 'retry-after': '0' });
    }
    if (token === this.failOnce) {
      this.failOnce = undefined;
      return json(res, 404, { _error: { status: 404, title: 'Not found', message: 'page gone' } });
    }
    const start = Number(token) * 100;
    const results = Array.from({ length: Math.max(0, Math.min(100, this.count - start)) }, (_, i) => ({
      id: `tag_${start + i}`,
      name: `Tag ${start + i}`,
    }));
    const next = start + 100 < this.count ? `${this.url}/tags?limit=100&page_token=${Number(token) + 1}` : null;
    json(res, 200, { _pagination: { next }, _links: { self: url.toString() }, _results: results });
  }
}
