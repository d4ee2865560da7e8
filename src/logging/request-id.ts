import { randomUUID } from 'node:crypto';

// Printable ASCII without spaces, and short: what tracing headers and proxies send (a UUID, a
// W3C trace id, "req-42"). Anything else (a newline that would forge a log line, 10 KB that would
// swell every line of the request) is not taken: the request gets an id of its own instead.
const ACCEPTED = /^[\x21-\x7e]{1,64}$/;

/** The id a request is logged and answered under: the caller's X-Request-Id if it is fit to repeat, else a new UUID. */
export function requestIdFor(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && ACCEPTED.test(incoming) ? incoming : randomUUID();
}
