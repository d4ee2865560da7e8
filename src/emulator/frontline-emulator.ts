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
  /** Records in each list (agents, workflows, tools, ai-models, tasks, users). Default 250. */
  records?: number;
  /** After this many requests every key is revoked (401). */
  revokeAfter?: number;
}

const PREFIX = '/public/v1';
const AT = '2026-01-01T12:00:00Z';

/** Frontline's list endpoints, with records shaped as its OpenAPI document's schemas. */
const LISTS: Record<string, { userOnly: boolean; record: (i: number) => object }> = {
  '/agents': {
    userOnly: false,
    record: (i) => ({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      name: `Agent ${i}`,
      description: 'Emulated agent',
      status: 'ACTIVE',
      createdAt: AT,
      updatedAt: AT,
    }),
  },
  '/workflows': {
    userOnly: false,
    record: (i) => ({
      id: 500 + i,
      name: `Workflow ${i}`,
      description: 'Emulated workflow',
      status: 'ACTIVE',
      triggerType: 'MANUAL',
      createdAt: AT,
      updatedAt: AT,
      runsCount: i,
      runsFailedCount: 0,
      lastRunDate: AT,
    }),
  },
  '/tools': {
    userOnly: false,
    record: (i) => ({
      id: 100 + i,
      name: `Tool ${i}`,
      description: 'Emulated tool',
      createdAt: AT,
      updatedAt: AT,
      status: 'ACTIVE',
      type: 'API_CALL',
    }),
  },
  '/ai-models': {
    userOnly: false,
    record: (i) => ({
      id: i + 1,
      name: `Model ${i}`,
      description: 'Emulated model',
      creditsPerMessage: 1,
      isDefault: i === 0,
      order: i,
      type: 'TEXT',
    }),
  },
  '/tasks': {
    userOnly: true,
    record: (i) => ({
      id: 1000 + i,
      content: `Task ${i}`,
      due_date: null,
      completed: false,
      completed_at: null,
      created_at: AT,
      updated_at: AT,
      assignees: [],
    }),
  },
  '/users': {
    userOnly: true,
    record: (i) => ({
      id: 10 + i,
      first_name: 'User',
      last_name: String(i),
      full_name: `User ${i}`,
      email: `user${i}@example.com`,
      role: 'MEMBER',
      status: 'ACTIVE',
    }),
  },
};
const WINDOW_MS = 60_000;
const LIMIT = 1_000;

/**
 * A loopback Frontline: `GET /public/v1/me` answering as Frontline documents it (account, and the
 * user for a USER key or null for a GENERAL one), its `{ok: false, error}` envelope, 401 for a
 * GENERAL key on a USER-only endpoint, and its rate-limit headers (429 without Retry-After, a
 * fixed 60-second window). The lists are Frontline's own (its OpenAPI document): each answers
 * `{"results": [...]}` whole, with no pagination; tasks and users take only a USER key.
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
    this.keys = new Map(
      Object.entries(
        options.keys ?? { [key()]: { type: 'GENERAL' }, [key()]: { type: 'USER', user: { id: 'usr_1', email: 'pat@example.com' } } },
      ),
    );
  }

  keyOfType(type: FrontlineKey['type']): string {
    return [...this.keys].find(([, k]) => k.type === type)![0];
  }

  async start(): Promise<this> {
    const server = await startLoopback((req, res) => this.handle(req, res), { port: this.options.port, host: this.options.host });
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
      return sendJson(
        res,
        200,
        { ok: true, data: { account: this.account, user: key.type === 'USER' ? (key.user ?? null) : null } },
        headers,
      );
    }
    const list = LISTS[path];
    if (list) {
      if (list.userOnly && key.type !== 'USER') {
        this.stats.unauthorized += 1;
        return fail(401, 'unauthorized', 'This endpoint needs a USER API key');
      }
      this.stats.pages += 1;
      const results = Array.from({ length: this.options.records ?? 250 }, (_, i) => list.record(i));
      return sendJson(res, 200, { results }, headers);
    }
    fail(404, 'not_found', `No route GET ${url.pathname}`);
  }
}
