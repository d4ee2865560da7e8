import { REDACTED } from './redact.js';

// Query parameters a driver takes as a login secret (pg-connection-string copies every one into its config).
const SECRET_PARAMS = /pass|secret|token|key|auth/i;

/** A URI's password counts as a secret from this many characters (redact.ts: shorter ones are not looked for). */
export const SHORTEST_URI_SECRET = 3;

/**
 * A store or queue URI fit for a message or a log: no password, in the userinfo (however many
 * `@` it holds, as the drivers split at the last one) or in the query string; redact.ts's marker
 * stands in its place (URL leaves its stars as they are). A URI that does not parse is shown as
 * its scheme alone, since where its password ends cannot be known.
 */
export function redactUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1];
    return scheme ? `${scheme}://(a URI that does not parse, not shown)` : '(a URI that does not parse, not shown)';
  }
  if (url.password) url.password = REDACTED;
  for (const name of [...url.searchParams.keys()]) if (SECRET_PARAMS.test(name)) url.searchParams.set(name, REDACTED);
  return url.toString();
}

/** The passwords in `uri`, for redact (which also looks for each one URL-decoded, encoded and JSON-escaped). */
export function secretsOfUri(uri: string): string[] {
  try {
    const url = new URL(uri);
    const found = [
      url.password,
      ...[...url.searchParams.entries()].filter(([name]) => SECRET_PARAMS.test(name)).map(([, value]) => value),
    ].filter((s) => s.length >= SHORTEST_URI_SECRET);
    return [...new Set(found)];
  } catch {
    return [];
  }
}
