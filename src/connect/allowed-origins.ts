import { InputError } from '../errors.js';
import { isLoopbackHost } from '../http/origin-policy.js';
import { printable } from '../text/printable.js';

/**
 * A connect session's allowed origins, each checked and normalised: the Connect page will be framed
 * by, and take its token by postMessage only from, exactly these. So each must be one origin as a
 * browser reports it (`scheme://host[:port]`): https, or http only on loopback (a page on plain
 * HTTP elsewhere can be rewritten by anyone on the path); no path, query, user info or wildcard,
 * which a browser's origin never has and which would let more pages in than the host meant.
 */
export function checkAllowedOrigins(origins: readonly string[]): string[] {
  return origins.map((origin, i) => checkAllowedOrigin(origin, `/allowedOrigins/${i}`));
}

function checkAllowedOrigin(value: string, field: string): string {
  const refuse = (why: string) => new InputError(`allowed origin "${printable(value.slice(0, 100))}" ${why}`, { field });
  if (value.includes('*')) throw refuse('has a wildcard: name each origin exactly (https://app.example.com)');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse('is not an origin: write scheme://host[:port], such as https://app.example.com');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname)))
    throw refuse('must be https://, or http:// on loopback (localhost, 127.0.0.1, [::1])');
  if (url.username || url.password) throw refuse('must not carry user info');
  // A host a browser can report: DNS letters, digits, dots and hyphens (punycode for the rest), or an
  // IP literal. WHATWG URLs let `;`, `,`, quotes through in a host, which would break out of the
  // CSP `frame-ancestors` list these origins are written into.
  if (!/^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])$/.test(url.hostname))
    throw refuse('has a host a browser would not report: letters, digits, dots and hyphens only (or an IP address)');
  // `new URL` gives a bare origin the path `/`: anything past the origin, even a lone slash typed, is refused.
  if (url.pathname !== '/' || value.endsWith('/') || url.search || url.hash || value.endsWith('?') || value.endsWith('#'))
    throw refuse(`must be an origin only, without a path, query or fragment (${url.origin})`);
  return url.origin;
}
