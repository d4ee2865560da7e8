import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LoopbackHost, readJson, sendJson, startLoopback } from './loopback-server.js';

export interface FronteggEmulatorOptions {
  /** clientId -> secret pairs it accepts; default one random pair. */
  clients?: Record<string, string>;
  port?: number;
  host?: LoopbackHost;
  /** How long an access token really lives. Default an hour. */
  tokenTtlMs?: number;
  /** The expires_in it announces (seconds); default the real lifetime. Larger than the real one forces a 401 mid-sync. */
  announcedExpiresIn?: number;
  /** Answer the v2 route in v1's camelCase (accessToken, expiresIn). */
  camelCase?: boolean;
  /** Users in the users list. Default 250. */
  users?: number;
  /** Delay before each list page, to make a sync outlive a token. */
  pageDelayMs?: number;
}

/**
 * A loopback Frontegg: the API-token exchange (`POST /identity/resources/auth/v2/api-token` and
 * the older v1 route in camelCase) issuing expiring access tokens, and a users list that takes only
 * a live access token, paged as Frontegg's identity API documents it (`_limit`, `_offset` a page
 * number, `items`, `_links`, `_metadata`), with its `{"errors": [...]}` error shape.
 */
export class FronteggEmulator {
  readonly clients: Map<string, string>;
  url = '';
  readonly stats = { exchanges: 0, refusedExchanges: 0, unauthorized: 0, pages: 0 };
  /** Every Authorization header an API route received. */
  readonly authorizations: string[] = [];
  private readonly tokens = new Map<string, number>();
  private stopServer: (() => Promise<void>) | undefined;

  constructor(private readonly options: FronteggEmulatorOptions = {}) {
    this.clients = new Map(
      Object.entries(options.clients ?? { [randomBytes(16).toString('hex')]: `fe_secret_${randomBytes(24).toString('base64url')}` }),
    );
  }

  get credentials(): { clientId: string; secret: string } {
    const [clientId, secret] = [...this.clients][0]!;
    return { clientId, secret };
  }

  async start(): Promise<this> {
    const server = await startLoopback((req, res) => void this.handle(req, res), { port: this.options.port, host: this.options.host });
    this.url = server.url;
    this.stopServer = server.stop;
    return this;
  }

  async stop(): Promise<void> {
    await this.stopServer?.();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const version = /^\/identity\/resources\/auth\/(v1|v2)\/api-token$/.exec(url.pathname)?.[1];
    if (req.method === 'POST' && version) return this.exchange(req, res, version === 'v1' || this.options.camelCase === true);
    const header = req.headers.authorization ?? '';
    this.authorizations.push(header);
    const token = /^Bearer (\S+)$/.exec(header)?.[1];
    const expires = token ? this.tokens.get(token) : undefined;
    if (expires === undefined || Date.now() >= expires) {
      this.stats.unauthorized += 1;
      return sendJson(res, 401, { errors: [expires === undefined ? 'Unauthorized' : 'Token expired'] });
    }
    if (req.method === 'GET' && url.pathname === '/identity/resources/users/v3') {
      if (this.options.pageDelayMs) await sleep(this.options.pageDelayMs);
      const total = this.options.users ?? 250;
      // As Frontegg's contract says: _limit up to 200 (50 by default), _offset a page number from 0.
      const limit = Math.min(200, Math.max(1, Number(url.searchParams.get('_limit') ?? 50) || 50));
      const page = Math.max(0, Math.floor(Number(url.searchParams.get('_offset') ?? 0)) || 0);
      const pages = Math.ceil(total / limit);
      const start = Math.min(total, page * limit);
      const end = Math.min(total, start + limit);
      const link = (n: number) => `${url.pathname}?_limit=${limit}&_offset=${n}`;
      this.stats.pages += 1;
      const items = Array.from({ length: end - start }, (_, i) => ({
        id: `usr-${start + i}`,
        email: `user${start + i}@example.com`,
        name: `User ${start + i}`,
      }));
      return sendJson(res, 200, {
        items,
        _links: {
          next: page + 1 < pages ? link(page + 1) : '',
          prev: page > 0 ? link(page - 1) : '',
          first: link(0),
          last: link(Math.max(0, pages - 1)),
        },
        _metadata: { totalItems: total, totalPages: pages },
      });
    }
    sendJson(res, 404, { errors: [`No route ${req.method} ${url.pathname}`] });
  }

  private async exchange(req: IncomingMessage, res: ServerResponse, camelCase: boolean): Promise<void> {
    const body = (await readJson(req)) as { clientId?: unknown; secret?: unknown } | undefined;
    if (!body || typeof body.clientId !== 'string' || this.clients.get(body.clientId) !== body.secret) {
      this.stats.refusedExchanges += 1;
      return sendJson(res, 401, { errors: ['Invalid client credentials'] });
    }
    this.stats.exchanges += 1;
    const ttl = this.options.tokenTtlMs ?? 3_600_000;
    const token = `fe_at_${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, Date.now() + ttl);
    const expiresIn = this.options.announcedExpiresIn ?? Math.round(ttl / 1000);
    const expires = new Date(Date.now() + expiresIn * 1000).toISOString();
    const refresh = `fe_rt_${randomBytes(16).toString('base64url')}`;
    sendJson(
      res,
      200,
      camelCase
        ? { accessToken: token, refreshToken: refresh, expiresIn, expires }
        : { access_token: token, refresh_token: refresh, expires_in: expiresIn, expires },
    );
  }
}
