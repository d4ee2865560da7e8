import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LoopbackHost, sendJson, startLoopback } from './loopback-server.js';

export interface FrontlineKey {
  type: 'GENERAL' | 'USER';
  user?: { id: string; email: string };
}

export interface FrontlineEmulatorOptions {
  /** Keys it accepts; default one GENERAL and one USER key. */
  keys?: Record<string, FrontlineKey>;
  port?: number;
  host?: LoopbackHost;
  /** Records in the contacts and my_tasks lists. Default 250. */
  records?: number;
  /** After this many requests every key is revoked (401). */
  revokeAfter?: number;
}

const PREFIX = '/public/v1';
const WINDOW_MS = 60_000;
const LIMIT = 1_000;

/**
 * A loopback Frontline: `GET /public/v1/me` answering as Frontline documents it (account, and the
 * user for a USER key or null for a GENERAL one), its `{ok: false, error}` envelope, 401 for a
 * GENERAL key on a USER-only endpoint, and its rate-limit headers (429 without Retry-After).
 * The list endpoints and their cursor pagination stand in for Frontline's, which credport has no
 * documentation of yet.
 */
export class FrontlineEmulator {
  readonly keys: Map<string, FrontlineKey>;
  readonly account = { id: 'acc_fl1', name: 'Emulated Frontline Account', namespace: 'emulated' };
  url = '';
  requests = 0;
  readonly stats = { unauthorized: 0, rateLimited: 0, pages: 0 };
  private windowStart = 0;
  private windowCount = 0;
  private stopServer: (() => Promise<void>) | undefined;

  constructor(private readonly options: FrontlineEmulatorOptions = {}) {
    const key = () => `fl_${randomBytes(20).toString('base64url')}`;
    this.keys = new Map(Object.entries(options.keys ?? { [key()]: { type: 'GENERAL' }, [key()]: { type: 'USER', user: { id: 'usr_1', email: 'pat@example.com' } } }));
  }

  keyOfType(type: FrontlineKey['type']): string {
    return [...this.keys].find(([, k]) => k.type === type)![0];
  }

  async start(): Promise<this> {
    const server = await startLoopback((req, res) => this.handle(req, res), { ...(this.options.port !== undefined ? { port: this.options.port } : {}), ...(this.options.host ? { host: this.options.host } : {}) });
    this.url = `${server.url}${PREFIX}`;
    this.stopServer = server.stop;
    return this;
  }

  async stop(): Promise<void> {
    await this.stopServer?.();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests += 1;
    const now = Date.now();
    if (now - this.windowStart >= WINDOW_MS) [this.windowStart, this.windowCount] = [now, 0];
    this.windowCount += 1;
    const headers = { 'X-RateLimit-Limit': String(LIMIT), 'X-RateLimit-Remaining': String(Math.max(0, LIMIT - this.windowCount)) };
    const fail = (status: number, code: string, message: string) => sendJson(res, status, { ok: false, error: { code, message } }, headers);
    if (this.windowCount > LIMIT) {
      this.stats.rateLimited += 1;
      return fail(429, 'rate_limited', 'Too many requests');
    }
    if (this.options.revokeAfter !== undefined && this.requests > this.options.revokeAfter) this.keys.clear();
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const key = token ? this.keys.get(token) : undefined;
    if (!key) {
      this.stats.unauthorized += 1;
      return fail(401, 'unauthorized', 'Missing, malformed, unknown or revoked API key');
    }
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length) : url.pathname;
    if (req.method !== 'GET') return fail(404, 'not_found', `No route ${req.method} ${url.pathname}`);
    if (path === '/me') {
      return sendJson(res, 200, { ok: true, data: { account: this.account, user: key.type === 'USER' ? key.user ?? null : null } }, headers);
    }
    if (path === '/contacts' || path === '/me/tasks') {
      if (path === '/me/tasks' && key.type !== 'USER') {
        this.stats.unauthorized += 1;
        return fail(401, 'unauthorized', 'This endpoint needs a USER API key');
      }
      const total = this.options.records ?? 250;
      const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') ?? 50) || 50));
      const offset = Number.parseInt(Buffer.from(url.searchParams.get('cursor') ?? '', 'base64url').toString() || '0', 10) || 0;
      const end = Math.min(total, offset + limit);
      const kind = path === '/contacts' ? 'ct' : 'tk';
      const items = Array.from({ length: end - offset }, (_, i) => ({ id: `${kind}_${(offset + i).toString(36)}`, name: `${kind === 'ct' ? 'Contact' : 'Task'} ${offset + i}` }));
      this.stats.pages += 1;
      return sendJson(res, 200, { ok: true, data: { items, next_cursor: end < total ? Buffer.from(String(end)).toString('base64url') : null } }, headers);
    }
    fail(404, 'not_found', `No route GET ${url.pathname}`);
  }
}
