import { isIP } from 'node:net';
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { lostServerError } from '../../connections/connection-watch.js';
import type { JsonLog, LogFormat } from '../../logging/json-log.js';
import type { ServeAnnouncement } from '../../server/start-server.js';
import { logFormat, redactKeyFile, runObserved } from '../command-log.js';
import { durationMs, portNumber } from '../option-parsers.js';
import { announcePass, announcePassFailed } from '../reverify-output.js';
import { type GlobalOptions, withCredport } from '../run-action.js';

interface ServeOptions extends GlobalOptions {
  host: string;
  port: number;
  frameAncestors?: string[];
  allowOrigin?: string[];
  demo?: boolean;
  verifyLimit: number;
  reverifyEvery?: number;
  /** false with --no-webhooks. */
  webhooks?: boolean;
  trustProxy?: string[];
  metricsPort?: number;
  logFormat?: LogFormat;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP API (/api/v1) and the web app: the "Add New Credential" overlay, credential tiles, sources and syncs')
    .option(
      '--host <address>',
      'address to listen on; anything but loopback exposes the API to the network (see docs/server-and-api.md)',
      '127.0.0.1',
    )
    .option('--port <n>', 'port (0: a free one)', (v) => Number.parseInt(v, 10), 8737)
    .option('--frame-ancestors <origins...>', "origins allowed to embed the pages in an iframe (a host's web app); default none")
    .option(
      '--allow-origin <origins...>',
      "origins a workspace's credentials may point at besides the connectors' own (https://api.example.com, or " +
        'front=http://127.0.0.1:4010 for one connector), and webhooks=<origin> for webhook endpoints; adds to CREDPORT_ALLOWED_ORIGINS',
    )
    .option(
      '--verify-limit <n>',
      'requests that ask the provider (add, test, rotate) per caller per minute',
      (v) => Number.parseInt(v, 10),
      30,
    )
    .option(
      '--trust-proxy <addresses>',
      'reverse proxies (addresses or CIDRs, comma-separated; repeatable) whose X-Forwarded-Proto and X-Forwarded-Host are ' +
        'believed; default none',
      (v, previous: string[] = []) => [...previous, ...v.split(',').map((a) => a.trim())],
    )
    .option(
      '--metrics-port <n>',
      'also answer /metrics, /healthz and /readyz without auth on 127.0.0.1 at this port (0: a free one); the main port answers ' +
        "/metrics to the server's API token",
      portNumber('metrics-port'),
    )
    .option('--demo', 'also start the Front, Frontline and Frontegg emulators on loopback and offer them in the web app')
    .option('--json', 'print the URL and login link as one JSON line')
    .option(
      '--log-format <format>',
      'text (default: the lines above) or json: one JSON log line per event and per request (pino), secrets redacted; ' +
        'see docs/operations/logs.md',
      logFormat,
    )
    .option('--no-webhooks', 'do not deliver webhook events from this process (another serve or worker on the store does)')
    .option(
      '--reverify-every <duration>',
      're-verify every credential not verified within this long, now and then at this interval (30m, 24h)',
      durationMs('reverify-every'),
    )
    .addHelpText(
      'after',
      `
Every API request needs the API token (Authorization: Bearer), from CREDPORT_API_TOKEN or the 0600 file
api-token beside the store, created on first start. The printed link carries a one-time login code in
its fragment (#login=...), which the browser sends to no server: the page posts it once and keeps the
session token it gets in that tab (sessionStorage), sent as a Bearer header; no cookie is set.
Behind a TLS reverse proxy, name it with --trust-proxy 127.0.0.1 (its address as this server sees it),
so that the page's https:// Origin is recognised; X-Forwarded-* headers from other addresses are ignored.
A workspace's API token may point credentials only at the connectors' own origins and those allowed
with --allow-origin or CREDPORT_ALLOWED_ORIGINS, and never at an address of this machine or a private
network unless that origin is allowed; its webhook endpoints are https:// to a public address, unless
the origin is allowed as webhooks=<origin> (--allow-origin webhooks=http://127.0.0.1:9000).
Ctrl-C (SIGINT) or SIGTERM stops running syncs at their next checkpoint, then exits.`,
    )
    .action(async (_o: unknown, command: Command) => {
      const options = command.optsWithGlobals<ServeOptions>();
      await runObserved(options, 'credport-serve', () => serve(options));
    });
}

async function serve(options: ServeOptions): Promise<void> {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
    throw new InputError('--port must be a port number', { field: 'port' });
  if (!Number.isInteger(options.verifyLimit) || options.verifyLimit < 1)
    throw new InputError('--verify-limit must be a whole number of requests a minute, 1 or more', { field: 'verifyLimit' });
  for (const origin of options.frameAncestors ?? []) {
    if (!/^https?:\/\/[^/\s;,']+$/.test(origin))
      throw new InputError(`--frame-ancestors takes origins such as https://app.example.com, not "${origin.slice(0, 60)}"`, {
        field: 'frameAncestors',
      });
  }
  for (const proxy of options.trustProxy ?? []) {
    if (!isAddressOrCidr(proxy))
      throw new InputError(`--trust-proxy takes addresses or CIDRs such as 127.0.0.1 or 10.0.0.0/8, not "${proxy.slice(0, 60)}"`, {
        field: 'trustProxy',
      });
  }
  const log = options.log;
  await withCredport(options, async (credport) => {
    await redactKeyFile(log, credport.location.keyFile);
    // Loaded here, so other commands do not pay for Fastify at start-up.
    const { startServer } = await import('../../server/start-server.js');
    const running = await startServer(credport, {
      host: options.host,
      port: options.port,
      frameAncestors: options.frameAncestors ?? [],
      allowOrigins: options.allowOrigin ?? [],
      demo: options.demo === true,
      verifyLimit: { max: options.verifyLimit, timeWindow: 60_000 },
      trustProxy: options.trustProxy ?? [],
      ...(options.metricsPort !== undefined ? { metricsPort: options.metricsPort } : {}),
      ...(log ? { log } : {}),
      announce: (info) => announce(info, options, log),
    });
    const schedule = options.reverifyEvery
      ? await credport.scheduleReverify(options.reverifyEvery, {
          onPass: (summary) => announcePass(summary, options.json === true, log),
          onError: (error) => announcePassFailed(error, options.json === true, log),
        })
      : undefined;
    // The outbox's events go out from every serve and worker on the store (leases share the work).
    const webhooks = options.webhooks === false ? undefined : credport.deliverWebhooks();
    const stopped = await running.closed;
    await schedule?.stop();
    await webhooks?.stop();
    if (stopped.lost) throw lostServerError(stopped.lost, 'credport serve');
  });
}

/**
 * One event of the server: with --log-format json a log line holding the --json fields (the human
 * sentence as its msg); with --json the JSON line scripts parse; else the human lines.
 */
function announce(info: ServeAnnouncement, options: ServeOptions, log: JsonLog | undefined): void {
  const { lines, toStderr } = describe(info, options.host);
  if (log) {
    const level = info.event === 'connection' && info.state === 'down' ? 'warn' : 'info';
    // The listening line's msg is its first sentence (and its warning): the link and the API's address are fields.
    const msg = info.event === 'listening' ? [lines[0], ...(info.loopback ? [] : lines.slice(-1))].join('; ') : lines.join(' ');
    return void log.logger[level](info, msg || info.event);
  }
  if (options.json) return void process.stdout.write(`${JSON.stringify(info)}\n`);
  for (const line of lines) (toStderr ? console.error : console.log)(line);
}

function describe(info: ServeAnnouncement, host: string): { lines: string[]; toStderr?: true } {
  if (info.event === 'listening') {
    return {
      lines: [
        `credport is serving on ${info.url}`,
        `open this link to sign in (it works once): ${info.loginUrl}`,
        `API: ${info.url}/api/v1 (Authorization: Bearer <token from ${info.apiTokenSource}>), OpenAPI: ${info.url}/api/v1/openapi.json`,
        ...(info.metricsUrl ? [`metrics and health (no auth, this machine only): ${info.metricsUrl}/metrics`] : []),
        ...(info.loopback
          ? []
          : [
              `warning: listening on ${host}, not loopback: anyone who can reach it and holds the token or a login ` +
                `link can use every credential`,
            ]),
      ],
    };
  }
  if (info.event === 'login_used') return { lines: [`a browser signed in; a new login link for another browser: ${info.loginUrl}`] };
  if (info.event === 'connection') {
    return {
      lines: [
        info.state === 'up'
          ? `${info.server} is back`
          : `lost ${info.server}${info.error ? ` (${info.error})` : ''}; reconnecting (requests that need it answer 503 meanwhile)`,
      ],
      toStderr: true,
    };
  }
  if (info.event === 'stopping') {
    return {
      lines: [
        info.lost
          ? `stopping: ${info.lost} stayed away longer than CREDPORT_RETRY_FOR...`
          : 'stopping: running syncs stop at their next checkpoint...',
      ],
    };
  }
  // `stopped`: said only in JSON (the text output ends with the process).
  return { lines: [] };
}

/** An IPv4 or IPv6 address, alone or with a prefix length (10.0.0.0/8, fd00::/8). */
function isAddressOrCidr(value: string): boolean {
  const [address = '', prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}
