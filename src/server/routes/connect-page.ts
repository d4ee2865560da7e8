import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ConnectSessions } from '../../connect/connect-sessions.js';
import { securityHeaders } from '../security-headers.js';

export interface ConnectPageOptions {
  connect: ConnectSessions;
  /** The built web app (dist/web): connect.html is read from it; the SDK from its sibling sdk/connect.js. */
  webRoot: string;
}

/** The tag the built connect.html carries, whose content this route fills with the session's origins. */
const ORIGINS_META = /<meta name="credport-allowed-origins" content="[^"]*"\s*\/?>/;
/**
 * An origin as checkAllowedOrigins leaves it. Checked again here, since these are written into a
 * header and an HTML attribute: a record that reached the store some other way (an older version, a
 * hand edit) cannot add a directive to the CSP (`;`), more ancestors (` `), or markup (`"`, `<`).
 */
const PLAIN_ORIGIN = /^https?:\/\/(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

const NOT_FOUND_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>credport: no such Connect session</title></head>' +
  '<body><h1>No such Connect session</h1><p>Ask the application that opened this page to start a new one.</p></body></html>';

/**
 * The Connect page, which a host's page frames (or opens as a popup) for one connect session, and
 * the SDK that does it. Outside /api/v1 and hidden from the OpenAPI document, like the web app's pages.
 */
export function connectPageRoutes(options: ConnectPageOptions) {
  const pageFile = join(options.webRoot, 'connect.html');
  const sdkFile = join(options.webRoot, '..', 'sdk', 'connect.js');
  return async (app: FastifyInstance) => {
    // Matched before the parametric route below: a static segment wins in Fastify's router.
    app.get('/connect/sdk.js', { schema: { hide: true } }, async (_request, reply) => {
      const sdk = await readFile(sdkFile, 'utf8').catch(() => undefined);
      if (sdk === undefined)
        return reply
          .code(404)
          .type('text/plain; charset=utf-8')
          .send('the Connect SDK is not built (npm run build): no dist/sdk/connect.js');
      // A host's page on another site loads it as a module script, which is a CORS request; it is public code.
      return reply
        .header('access-control-allow-origin', '*')
        .header('cross-origin-resource-policy', 'cross-origin')
        .header('cache-control', 'public, max-age=300')
        .type('text/javascript; charset=utf-8')
        .send(sdk);
    });

    app.get<{ Params: { sessionId: string } }>('/connect/:sessionId', { schema: { hide: true } }, async (request, reply) => {
      const origins = (await options.connect.pageOrigins(request.params.sessionId))?.filter((origin) => PLAIN_ORIGIN.test(origin));
      if (!origins?.length) {
        // Framed by nobody (frame-ancestors 'none', X-Frame-Options DENY), and the id is not echoed.
        setHeaders(reply, securityHeaders({ frameAncestors: [] }));
        return reply.code(404).type('text/html; charset=utf-8').send(NOT_FOUND_PAGE);
      }
      const page = await readFile(pageFile, 'utf8').catch(() => undefined);
      if (page === undefined || !ORIGINS_META.test(page))
        return reply.code(503).type('text/plain; charset=utf-8').send('the Connect page is not built (npm run build:web)');
      // The session's origins only may frame it; a popup keeps its opener (the host page it reports to).
      setHeaders(reply, securityHeaders({ frameAncestors: origins, openerPolicy: 'unsafe-none' }));
      const meta = `<meta name="credport-allowed-origins" content="${escapeAttribute(origins.join(' '))}">`;
      return reply
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(page.replace(ORIGINS_META, () => meta));
    });
  };
}

/** Over the server-wide headers the onRequest hook already set on the raw answer (same names, so replaced). */
function setHeaders(reply: FastifyReply, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) reply.raw.setHeader(name, value);
  if (!('x-frame-options' in headers)) reply.raw.removeHeader('x-frame-options');
}

function escapeAttribute(text: string): string {
  return text.replace(/[&"'<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}
