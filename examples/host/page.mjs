// The host page's own headers and its one templated value (where credport answers).

/**
 * The host page's Content-Security-Policy: scripts from itself and credport only (the SDK is
 * credport's /connect/sdk.js), frames from credport only, no inline script or style anywhere. The
 * Connect SDK works under it, which shows it needs neither inline script nor inline style.
 */
export function pageHeaders(credportOrigin) {
  return {
    'content-security-policy': [
      "default-src 'self'",
      `script-src 'self' ${credportOrigin}`,
      "style-src 'self'",
      `frame-src ${credportOrigin}`,
      "connect-src 'self'",
      "img-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    // No Referer: the page's address is nobody's business (it carries nothing secret anyway).
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

/** index.html with credport's origin in its meta tag (an origin: new URL().origin, so nothing to escape but quotes and angles). */
export function renderIndex(html, credportOrigin) {
  const escaped = credportOrigin.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  return html.replace('{{CREDPORT_ORIGIN}}', escaped);
}
