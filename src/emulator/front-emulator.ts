import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { frontError, FrontWrites } from './front-writes.js';
import { type LoopbackHost, readJson, sendJson as send, startLoopback } from './loopback-server.js';

export interface FrontEmulatorOptions {
  /** Tokens it accepts; one random token when none are given. */
  tokens?: string[];
  company?: { id: string; name: string };
  port?: number;
  /** Loopback only: the emulator is for this machine. */
  host?: LoopbackHost;
  /** Records in each paginated list (contacts, conversations, tags, accounts). Default 250. */
  records?: number;
  /** Requests allowed per window (Front: 50-200 a minute); 0 or absent: no limit. */
  rateLimit?: number;
  rateWindowMs?: number;
  /**
   * Each token gets its own window of rateLimit requests (Front limits each company, and each
   * credential is one company); off: one window shared by every request, as before.
   */
  rateLimitPerToken?: boolean;
  /** Every Nth request answers 429 although x-ratelimit-remaining is above 0, as Front's burst limits do. */
  burstEvery?: number;
  /** Lists it answers 403, as for a token without the scope. */
  forbidden?: string[];
  /** Every Nth write is applied, then answered 502: the outcome a client cannot know (fault injection). */
  loseResponseEvery?: number;
  /** Every Nth request answers 502 (fault injection). */
  failEvery?: number;
  /** After this many requests, every token is revoked (401). */
  revokeAfter?: number;
  /** Pagination links point at this origin instead of the emulator's own (a foreign-origin test). */
  nextOrigin?: string;
  /** Answers contacts whole whatever q[updated_after] says, as a provider that ignores a filter would. */
  ignoreFilter?: boolean;
  /** Each list page is answered this long after it was asked for (real providers take 100 to 500 ms). */
  latencyMs?: number;
  /**
   * The first requests, one answer each and in order, get these answers before any other rule (a
   * status sequence: a 429 that names its own wait, an outage), then the emulator answers as usual.
   */
  firstAnswers?: ScriptedAnswer[];
  /** Keep `seen`, a log of every request: off by default, since `credport emulate` may run for days. */
  recordRequests?: boolean;
}

/** One answer of `firstAnswers`: the status, Front's `_error` envelope with this message, these headers. */
export interface ScriptedAnswer {
  status: number;
  message?: string;
  headers?: Record<string, string>;
}

/** One request as it arrived (`recordRequests`): what a client really sent, and when. */
export interface SeenRequest {
  method: string;
  /** Path and query. */
  path: string;
  authorization: string | undefined;
  /** Arrival, in ms since the epoch. */
  at: number;
}

const LISTS = ['contacts', 'conversations', 'tags', 'accounts'] as const;
const SMALL_LISTS = { inboxes: 3, teammates: 5 } as const;
const EPOCH = 1_767_225_600; // 2026-01-01, in seconds as Front sends timestamps

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
  /** Path and query of every list page asked for, for tests of what a sync sends. */
  readonly pagesAsked: string[] = [];
  /** Every request as it arrived, with `recordRequests`; a test may empty it. */
  readonly seen: SeenRequest[] = [];
  /** What it answered, for tests and the bench; `maxInFlight`: the most list pages it was answering at once. */
  readonly stats = { pages: 0, rateLimited: 0, failed: 0, unauthorized: 0, lostResponses: 0, maxInFlight: 0 };
  private inFlight = 0;
  /** The write routes: what was received and created, for exactly-once checks. */
  readonly writes = new FrontWrites(new Set(Array.from({ length: 3 }, (_, i) => `inb_${i.toString(36)}`)));
  /** Fixed windows by token ('' for the shared one), so a thousand tokens are a thousand companies. */
  private readonly windows = new Map<string, { start: number; count: number }>();
  private stopServer: (() => Promise<void>) | undefined;
  private readonly scripted: ScriptedAnswer[];

  constructor(private readonly options: FrontEmulatorOptions = {}) {
    this.scripted = [...(options.firstAnswers ?? [])];
    this.tokens = new Set(options.tokens?.length ? options.tokens : [`emu_${randomBytes(24).toString('base64url')}`]);
    this.company = options.company ?? { id: 'cmp_emu1', name: 'Emulated Paper Company' };
  }

  async start(): Promise<this> {
    const server = await startLoopback((req, res) => this.handle(req, res), { port: this.options.port, host: this.options.host });
    this.url = server.url;
    this.stopServer = server.stop;
    return this;
  }

  async stop(): Promise<void> {
    await this.stopServer?.();
    this.stopServer = undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests += 1;
    const o = this.options;
    if (o.recordRequests)
      this.seen.push({ method: req.method ?? 'GET', path: req.url ?? '/', authorization: req.headers.authorization, at: Date.now() });
    const scripted = this.scripted.shift();
    if (scripted) {
      const title = STATUS_CODES[scripted.status] ?? 'Error';
      return send(res, scripted.status, frontError(scripted.status, title, scripted.message ?? title), scripted.headers);
    }
    const window = this.windowOf(req);
    if (!this.rateAllows(res, window)) {
      this.stats.rateLimited += 1;
      const waitMs = window.start + (o.rateWindowMs ?? 60_000) - Date.now();
      res.setHeader('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))));
      return send(
        res,
        429,
        frontError(429, 'Too Many Requests', `Rate limit exceeded. Please retry in ${Math.max(1, waitMs)} milliseconds.`),
      );
    }
    if (o.burstEvery && this.requests % o.burstEvery === 0) {
      this.stats.rateLimited += 1;
      // Front's docs say retry-after is in seconds; its burst answers have said milliseconds.
      res.setHeader('retry-after', '150');
      return send(res, 429, frontError(429, 'Too Many Requests', 'Burst limit reached. Please retry in 150 milliseconds.'));
    }
    if (o.revokeAfter !== undefined && this.requests > o.revokeAfter) this.tokens.clear();
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !this.tokens.has(token)) {
      this.stats.unauthorized += 1;
      return send(res, 401, frontError(401, 'Unauthenticated', 'Invalid or missing API token'));
    }
    if (o.failEvery && this.requests % o.failEvery === 0) {
      this.stats.failed += 1;
      return send(res, 502, frontError(502, 'Bad Gateway', 'Upstream failed'));
    }
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname;
    if (req.method === 'GET' && path === '/me') {
      return send(res, 200, { _links: { self: `${this.url}/me` }, id: this.company.id, name: this.company.name });
    }
    if (req.method === 'POST') return void this.write(req, res, path);
    if (req.method === 'GET') {
      const found = this.writes.lookup(path);
      if (found) return send(res, found.status, found.body);
    }
    const list = path.slice(1);
    if (o.forbidden?.includes(list))
      return send(res, 403, frontError(403, 'Forbidden', 'You do not have the permission to access this resource'));
    if (req.method === 'GET' && (LISTS as readonly string[]).includes(list)) return this.delayed(() => this.page(res, list, url));
    if (req.method === 'GET' && list in SMALL_LISTS) {
      const count = SMALL_LISTS[list as keyof typeof SMALL_LISTS];
      return send(res, 200, { _links: { self: url.toString() }, _results: Array.from({ length: count }, (_, i) => record(list, i)) });
    }
    send(res, 404, frontError(404, 'Not found', `No route ${req.method} ${path}`));
  }

  private async write(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const body = await readJson(req);
    if (body === undefined) return send(res, 400, frontError(400, 'Bad request', 'Body is not valid JSON'));
    const answer = this.writes.write('POST', path, body);
    if (!answer) return send(res, 404, frontError(404, 'Not found', `No route POST ${path}`));
    const every = this.options.loseResponseEvery;
    if (every && answer.status < 300 && this.writes.received.length % every === 0) {
      this.stats.lostResponses += 1;
      return send(res, 502, frontError(502, 'Bad Gateway', 'Upstream failed'));
    }
    send(res, answer.status, answer.body);
  }

  /** Answers after the configured latency, counting the pages being answered at once. */
  private delayed(answer: () => void): void {
    this.inFlight += 1;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
    const done = () => {
      this.inFlight -= 1;
      answer();
    };
    if (this.options.latencyMs) setTimeout(done, this.options.latencyMs);
    else done();
  }

  /** One page of a list: `_results`, and `_pagination.next` on the company's host (here: the emulator, or nextOrigin). */
  private page(res: ServerResponse, list: string, url: URL): void {
    this.pagesAsked.push(`${url.pathname}${url.search}`);
    const total = this.options.records ?? 250;
    const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') ?? 50) || 50));
    const token = url.searchParams.get('page_token');
    let offset = token ? Number.parseInt(Buffer.from(token, 'base64url').toString(), 10) : 0;
    if (!Number.isInteger(offset) || offset < 0) return send(res, 400, frontError(400, 'Bad Request', 'Invalid page_token'));
    const after = list === 'contacts' && !this.options.ignoreFilter ? updatedAfter(url.searchParams.get('q[updated_after]')) : undefined;
    if (after !== undefined && !token) offset = Math.max(0, Math.floor(after - EPOCH) + 1);
    const end = Math.min(total, offset + limit);
    const results = [];
    for (let i = offset; i < end; i++) results.push(record(list, i));
    const nextUrl = new URL(`/${list}`, this.options.nextOrigin ?? this.url);
    nextUrl.searchParams.set('limit', String(limit));
    nextUrl.searchParams.set('page_token', Buffer.from(String(end)).toString('base64url'));
    this.stats.pages += 1;
    send(res, 200, { _pagination: { next: end < total ? nextUrl.toString() : null }, _links: { self: url.toString() }, _results: results });
  }

  /** The window this request counts in: its bearer token's with rateLimitPerToken, else the one shared window. */
  private windowOf(req: IncomingMessage): { start: number; count: number } {
    const token = this.options.rateLimitPerToken ? /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] : undefined;
    // Unknown tokens share the '' entry: a client sending random tokens cannot grow the map.
    const key = token !== undefined && this.tokens.has(token) ? token : '';
    let window = this.windows.get(key);
    if (!window) {
      window = { start: 0, count: 0 };
      this.windows.set(key, window);
    }
    return window;
  }

  /** A fixed window of rateLimit requests, with Front's headers on every answer. */
  private rateAllows(res: ServerResponse, window: { start: number; count: number }): boolean {
    const limit = this.options.rateLimit ?? 0;
    const windowMs = this.options.rateWindowMs ?? 60_000;
    const now = Date.now();
    if (now - window.start >= windowMs) {
      window.start = now;
      window.count = 0;
    }
    window.count += 1;
    const shown = limit || 100_000;
    res.setHeader('x-ratelimit-limit', String(shown));
    res.setHeader('x-ratelimit-remaining', String(Math.max(0, shown - window.count)));
    res.setHeader('x-ratelimit-reset', String((window.start + windowMs) / 1000));
    return !limit || window.count <= limit;
  }
}

/** Deterministic records shaped like Front's (ids with Front's prefixes, timestamps in seconds). */
function record(list: string, i: number): Record<string, unknown> {
  const at = EPOCH + i;
  switch (list) {
    case 'contacts':
      return {
        id: `crd_${i.toString(36)}`,
        name: `Contact ${i}`,
        description: '',
        is_spammer: false,
        links: [],
        handles: [{ handle: `contact${i}@example.com`, source: 'email' }],
        custom_fields: {},
        is_private: false,
        updated_at: at,
        created_at: at,
      };
    case 'conversations':
      return { id: `cnv_${i.toString(36)}`, subject: `Conversation ${i}`, status: 'archived', tags: [], created_at: at };
    case 'tags':
      return { id: `tag_${i.toString(36)}`, name: `tag-${i}`, highlight: null, is_private: false, created_at: at, updated_at: at };
    case 'accounts':
      return {
        id: `acc_${i.toString(36)}`,
        name: `Account ${i}`,
        domains: [`account${i}.example.com`],
        external_id: `ext-${i}`,
        created_at: at,
        updated_at: at,
      };
    case 'inboxes':
      return { id: `inb_${i.toString(36)}`, name: `Inbox ${i}`, is_private: false };
    default:
      return {
        id: `tea_${i.toString(36)}`,
        email: `teammate${i}@example.com`,
        username: `teammate${i}`,
        first_name: 'Team',
        last_name: `Mate ${i}`,
        is_admin: i === 0,
      };
  }
}

/**
 * Front's query object is bracket notation, one parameter per property: q[updated_after]=<seconds>
 * (https://dev.frontapp.com/docs/query-object-q). Anything else is not a filter, as on Front.
 */
function updatedAfter(value: string | null): number | undefined {
  if (value === null || !/^\d+(\.\d{1,3})?$/.test(value)) return undefined;
  return Number(value);
}
