import type { FastifyInstance } from 'fastify';

export interface SecurityHeaderOptions {
  /** Origins allowed to frame the pages (a host embedding the overlay in an iframe); none by default. */
  frameAncestors: readonly string[];
  /**
   * Cross-Origin-Opener-Policy: same-origin by default; the Connect page says unsafe-none, so a
   * popup it runs in keeps `window.opener` (the host page it posts its events to).
   */
  openerPolicy?: 'same-origin' | 'unsafe-none';
}

/**
 * Headers on every answer: a Content-Security-Policy with no inline script, no sniffing, no
 * referrer, and framing only by the origins the operator named.
 */
export function securityHeaders(options: SecurityHeaderOptions): Record<string, string> {
  const ancestors = options.frameAncestors.length > 0 ? options.frameAncestors.join(' ') : "'none'";
  const headers: Record<string, string> = {
    'content-security-policy': [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      `frame-ancestors ${ancestors}`,
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': options.openerPolicy ?? 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
  if (options.frameAncestors.length === 0) headers['x-frame-options'] = 'DENY';
  return headers;
}

export function registerSecurityHeaders(app: FastifyInstance, headers: Record<string, string>): void {
  app.addHook('onRequest', async (_request, reply) => {
    // Set before the handler runs, so hijacked answers (Server-Sent Events) carry them too.
    for (const [name, value] of Object.entries(headers)) reply.raw.setHeader(name, value);
  });
}
