import type { AccessScope } from '../access/access.js';
import { isLoopbackHost } from '../http/origin-policy.js';
import type { JsonLog } from '../logging/json-log.js';
import type { Credport } from '../open-credport.js';
import type { SyncQueue } from '../queue/sync-queue.js';
import { queueUnusable } from '../queue/queue-unusable.js';
import { type ServerState, watchRedisConnections } from '../connections/connection-watch.js';
import { retryForMsFromEnv } from '../settings.js';
import { loadApiToken } from './api-token.js';
import { createServer } from './create-server.js';
import { startDemoProviders } from './demo-providers.js';
import { LoginSessions } from './login-sessions.js';
import { openProcessMetrics } from '../metrics/process-metrics.js';
import { startMetricsServer } from '../metrics/metrics-server.js';
import type { VerifyLimit } from './routes/credentials.js';

export type ServeAnnouncement =
  | { event: 'listening'; url: string; loginUrl: string; apiTokenSource: string; loopback: boolean; demo: boolean; metricsUrl?: string }
  | { event: 'login_used'; loginUrl: string }
  | { event: 'connection'; server: string; state: 'up' | 'down'; since: string; error?: string }
  | { event: 'stopping'; lost?: string }
  | { event: 'stopped' };

export interface StartOptions {
  host: string;
  port: number;
  frameAncestors: string[];
  demo: boolean;
  verifyLimit?: VerifyLimit;
  /** Origins a workspace's credentials may use besides the connectors' own (serve --allow-origin), on top of CREDPORT_ALLOWED_ORIGINS. */
  allowOrigins?: string[];
  /** Reverse proxies (addresses, CIDRs) whose X-Forwarded-Proto and X-Forwarded-Host are believed. */
  trustProxy?: string[];
  announce: (info: ServeAnnouncement) => void;
  /** `--log-format json`: Fastify logs a line a request through it; the API token joins its redaction. */
  log?: JsonLog;
  env?: NodeJS.ProcessEnv;
  /** `--metrics-port`: /metrics, /healthz and /readyz without auth on 127.0.0.1 at this port (0: a free one). */
  metricsPort?: number;
}

/** Why the server stopped: a signal, or a server it needs (Redis) that stayed away longer than CREDPORT_RETRY_FOR. */
export interface Stopped {
  lost?: ServerState;
}

// Closing a queue whose Redis is gone can wait for ever: the process is ending anyway.
const CLOSE_QUEUE_MS = 5_000;

/**
 * `credport serve`: the server on its address, a login link, and a clean stop on SIGINT/SIGTERM
 * that lets running syncs reach their next checkpoint before the store closes.
 */
export async function startServer(credport: Credport, options: StartOptions): Promise<{ url: string; closed: Promise<Stopped> }> {
  const { token, source } = await loadApiToken({ env: options.env ?? process.env, home: credport.location.home });
  // Read from its file (not only CREDPORT_API_TOKEN): from now on no log line may hold it.
  options.log?.redaction.add(token);
  for (const entry of options.allowOrigins ?? []) credport.outbound.allow(entry);
  const demo = options.demo ? await startDemoProviders() : undefined;
  // The demo's emulators are on loopback: every caller of this server may use them, each for its own connector.
  for (const [connector, provider] of Object.entries(demo?.providers ?? {}))
    credport.outbound.allow(`${connector}=${new URL(provider.baseUrl).origin}`);
  let url = '';
  const sessions = new LoginSessions();
  sessions.onCodeUsed = () => options.announce({ event: 'login_used', loginUrl: loginUrl(url, sessions.loginCode) });
  const queue = await openQueue((options.env ?? process.env).CREDPORT_QUEUE, credport.access);
  const runSync = queue ? (await import('../queue/sync-queue.js')).queuedRun(queue) : undefined;
  const env = options.env ?? process.env;
  const probes = await openProcessMetrics(credport, {
    ...(env.CREDPORT_QUEUE?.trim() ? { queueUrl: env.CREDPORT_QUEUE.trim() } : {}),
    ...(env.CREDPORT_REDIS?.trim() ? { redisUrl: env.CREDPORT_REDIS.trim() } : {}),
  });
  const { app, jobs } = await createServer({
    credport,
    apiToken: token,
    sessions,
    frameAncestors: options.frameAncestors,
    ...(options.verifyLimit ? { verifyLimit: options.verifyLimit } : {}),
    ...(options.trustProxy?.length ? { trustProxy: options.trustProxy } : {}),
    ...(demo ? { demo: demo.providers } : {}),
    ...(runSync ? { runSync } : {}),
    probes,
    ...(options.log ? { logger: options.log.logger } : {}),
  });
  await app.listen({ host: options.host, port: options.port });
  const metricsServer = options.metricsPort !== undefined ? await startMetricsServer(options.metricsPort, probes) : undefined;
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  options.announce({
    event: 'listening',
    url,
    loginUrl: loginUrl(url, sessions.loginCode),
    apiTokenSource: source,
    loopback: isLoopbackHost(options.host),
    demo: demo !== undefined,
    ...(metricsServer ? { metricsUrl: metricsServer.url } : {}),
  });

  const closed = new Promise<Stopped>((resolve) => {
    const stop = async (lost?: ServerState) => {
      watch.stop();
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, onSignal);
      options.announce({ event: 'stopping', ...(lost ? { lost: lost.server } : {}) });
      // In-process syncs stop at their next checkpoint; queued ones belong to their workers and go on.
      if (!queue) await jobs.stopAll();
      await app.close();
      await metricsServer?.close();
      await probes.close();
      await Promise.race([queue?.close().catch(() => undefined), new Promise((done) => setTimeout(done, CLOSE_QUEUE_MS).unref())]);
      await demo?.stop();
      options.announce({ event: 'stopped' });
      resolve(lost ? { lost } : {});
    };
    const onSignal = () => void stop();
    // Redis away (the queue, the shared rate limits, a Redis store): requests that need it fail with 503 meanwhile;
    // away longer than CREDPORT_RETRY_FOR, the server stops for its supervisor to start it again.
    const watch = watchRedisConnections({
      giveUpAfterMs: retryForMsFromEnv(options.env ?? process.env),
      onChange: (state) =>
        options.announce({
          event: 'connection',
          server: state.server,
          state: state.up ? 'up' : 'down',
          since: new Date(state.since).toISOString(),
          ...(state.error ? { error: state.error } : {}),
        }),
      onLost: (state) => void stop(state),
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, onSignal);
  });
  return { url, closed };
}

/** The code rides in the fragment, which a browser sends to no server (not even this one): the page reads it and posts it once. */
function loginUrl(url: string, code: string): string {
  return `${url}/#login=${code}`;
}

/** The sync queue when CREDPORT_QUEUE names one: POST /syncs then puts syncs there for the workers. */
async function openQueue(url: string | undefined, access: AccessScope): Promise<SyncQueue | undefined> {
  if (!url?.trim()) return undefined;
  const { openSyncQueue } = await import('../queue/sync-queue.js');
  return openSyncQueue(url.trim(), { access: () => access.current(), retryForMs: retryForMsFromEnv(process.env) }).catch((error: unknown) =>
    Promise.reject(queueUnusable(url, error)),
  );
}
