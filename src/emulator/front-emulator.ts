import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FrontEmulatorOptions {
  /** Tokens it accepts; one random token when none are given. */
  tokens?: string[];
  company?: { id: string; name: string };
  port?: number;
  /** Loopback only: the emulator is for this machine. */
  host?: '127.0.0.1' | '::1' | 'localhost';
}

/**
 * A loopback server that answers like Front's Core API (its OpenAPI description): `GET /me` with
 * the token's company, the `_error` envelope for anything else, and Front's rate-limit headers.
 * It lets the demo and tests run with no internet; issue #3 grows it with the list endpoints.
 */
export class FrontEmulator {
  readonly tokens: Set<string>;
  readonly company: { id: string; name: string };
  url = '';
  requests = 0;
  private server: Server | undefined;

  constructor(private readonly options: FrontEmulatorOptions = {}) {
    this.tokens = new Set(options.tokens?.length ? options.tokens : [`emu_${randomBytes(24).toString('base64url')}`]);
    this.company = options.company ?? { id: 'cmp_emu1', name: 'Emulated Paper Company' };
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => this.handle(req, res));
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, host, () => resolve());
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests += 1;
    res.setHeader('x-ratelimit-limit', '100');
    res.setHeader('x-ratelimit-remaining', '99');
    res.setHeader('x-ratelimit-reset', String(Math.ceil(Date.now() / 1000) + 60));
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !this.tokens.has(token)) return send(res, 401, frontError(401, 'Unauthenticated', 'Invalid or missing API token'));
    const path = new URL(req.url ?? '/', this.url).pathname;
    if (req.method === 'GET' && path === '/me') {
      return send(res, 200, { _links: { self: `${this.url}/me` }, id: this.company.id, name: this.company.name });
    }
    send(res, 404, frontError(404, 'Not found', `No route ${req.method} ${path}`));
  }
}

function frontError(status: number, title: string, message: string) {
  return { _error: { status, title, message } };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
