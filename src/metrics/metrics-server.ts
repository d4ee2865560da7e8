import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CredportMetrics } from './credport-metrics.js';
import type { Readiness } from './readiness.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** /healthz, /readyz and /metrics answered the same way on serve's main port and on a metrics port. */
export async function answerProbe(
  path: string,
  parts: { metrics: CredportMetrics; readiness: Readiness },
): Promise<{ status: number; type: string; body: string } | undefined> {
  if (path === '/healthz') return { status: 200, type: 'text/plain; charset=utf-8', body: 'ok\n' };
  if (path === '/readyz') {
    // No detail beyond ok or failing: the probe has no auth, and which server is away is the operator's logs' to say.
    const ok = await parts.readiness.ready();
    return { status: ok ? 200 : 503, type: 'text/plain; charset=utf-8', body: ok ? 'ok\n' : 'failing\n' };
  }
  if (path === '/metrics') return { status: 200, type: METRICS_CONTENT_TYPE, body: await parts.metrics.scrape() };
  return undefined;
}

/**
 * `--metrics-port`: a second listener on 127.0.0.1 only, without auth (whoever can reach loopback
 * on this machine is its operator), for a scraper or probe beside the process.
 */
export async function startMetricsServer(
  port: number,
  parts: { metrics: CredportMetrics; readiness: Readiness },
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0]!;
    const answer = request.method === 'GET' || request.method === 'HEAD' ? answerProbe(path, parts) : Promise.resolve(undefined);
    answer.then(
      (found) => {
        const { status, type, body } = found ?? { status: 404, type: 'text/plain; charset=utf-8', body: 'not found\n' };
        response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      () => {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end('scrape failed\n');
      },
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
