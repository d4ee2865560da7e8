import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exchange {
  /** When the request arrived and when its answer left (ms since the epoch). */
  arrived: number;
  answered?: number;
  method: string;
  /** Path and query. */
  path: string;
  /** The Authorization header it carried: which requests had the token. */
  authorization: string | undefined;
  status?: number;
}

/**
 * A loopback proxy in front of a provider emulator (or Prism) that logs every request (when it arrived, what it
 * asked for, what the provider answered, when): what a client really sent, seen from the provider's side.
 */
export class RecordingProxy {
  readonly log: Exchange[] = [];
  url = '';
  private server!: Server;

  /** `target` is read on every request, so the emulator behind may be replaced. */
  static async start(target: () => string): Promise<RecordingProxy> {
    const proxy = new RecordingProxy();
    proxy.server = createServer((req, res) => {
      const exchange: Exchange = {
        arrived: Date.now(),
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        authorization: req.headers.authorization,
      };
      proxy.log.push(exchange);
      const upstream = new URL(target());
      const forward = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          exchange.status = answer.statusCode;
          exchange.answered = Date.now();
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.url = `http://127.0.0.1:${(proxy.server.address() as AddressInfo).port}`;
    return proxy;
  }

  /** Paths of the requests so far (without the query), in arrival order. */
  paths(): string[] {
    return this.log.map((e) => new URL(e.path, 'http://x').pathname);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
