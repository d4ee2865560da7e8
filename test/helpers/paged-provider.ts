import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeConnector } from './connector-fixtures.js';

export interface PagedProviderOptions {
  /** Records in each stream. */
  records: number;
  streams: string[];
  /** Each page is answered this long after it was asked for. */
  latencyMs?: number;
  /** Requests allowed per fixed window (counted on arrival), with Front's headers; 0: no limit. */
  rateLimit?: number;
  windowMs?: number;
}

const PAGE_SIZE = 100;

/**
 * A loopback provider with page-number pagination (`?page=N&per_page=100`, `{items, total_pages}`),
 * a latency and a fixed window announced in x-ratelimit-* headers: the shape that lets a sync ask
 * for pages ahead. Its connector, `pager`, is data written by `writePagerConnector`.
 */
export class PagedProvider {
  readonly token = 'pager_token_0123456789abcdef';
  /** `aborted`: pages whose asker hung up before the answer (a page asked for ahead, then not wanted). */
  readonly stats = { pages: 0, rateLimited: 0, maxInFlight: 0, aborted: 0 };
  url = '';
  private server!: Server;
  private windowStart = 0;
  private windowCount = 0;
  private inFlight = 0;

  constructor(private readonly options: PagedProviderOptions) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const { rateLimit = 0, windowMs = 60_000 } = this.options;
      if (rateLimit > 0) {
        const now = Date.now();
        if (now - this.windowStart >= windowMs) {
          this.windowStart = now;
          this.windowCount = 0;
        }
        this.windowCount += 1;
        res.setHeader('x-ratelimit-limit', String(rateLimit));
        res.setHeader('x-ratelimit-remaining', String(Math.max(0, rateLimit - this.windowCount)));
        res.setHeader('x-ratelimit-reset', String((this.windowStart + windowMs) / 1000));
        if (this.windowCount > rateLimit) {
          this.stats.rateLimited += 1;
          res.setHeader('retry-after', String(Math.max(1, Math.ceil((this.windowStart + windowMs - now) / 1000))));
          return reply(429, { error: 'rate limit exceeded' });
        }
      }
      if (req.headers.authorization !== `Bearer ${this.token}`) return reply(401, { error: 'unauthorized' });
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/me') return reply(200, { id: 'acct_1', name: 'Pager account' });
      const stream = url.pathname.slice(1);
      if (!this.options.streams.includes(stream)) return reply(404, { error: `no ${url.pathname}` });
      const page = Number(url.searchParams.get('page') ?? 1);
      const total = Math.ceil(this.options.records / PAGE_SIZE);
      const start = (page - 1) * PAGE_SIZE;
      const items = Array.from({ length: Math.max(0, Math.min(PAGE_SIZE, this.options.records - start)) }, (_, i) => ({
        id: `${stream}_${start + i}`,
      }));
      this.inFlight += 1;
      this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
      res.on('close', () => {
        if (!res.writableEnded) this.stats.aborted += 1;
      });
      setTimeout(() => {
        this.inFlight -= 1;
        if (res.destroyed) return;
        this.stats.pages += 1;
        reply(200, { items, total_pages: total });
      }, this.options.latencyMs ?? 0);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The `pager` connector: the provider above as data, its window declared so the summary has a limit. */
export function writePagerConnector(root: string, streams: string[], windowMs: number, concurrency = 8): Promise<string> {
  return writeConnector(root, 'pager', (manifest) => {
    manifest.http = { baseUrl: 'https://api.pager.example', allowedHosts: [], concurrency, rateLimit: { window: 'fixed', windowMs } };
    manifest.streams = Object.fromEntries(
      streams.map((name) => [
        name,
        {
          path: `/${name}`,
          recordSelector: '/items',
          primaryKey: 'id',
          scopes: [],
          pagination: {
            type: 'page',
            pageParam: 'page',
            firstPage: 1,
            limitParam: 'per_page',
            pageSize: PAGE_SIZE,
            totalPages: '/total_pages',
          },
        },
      ]),
    );
  });
}
