// Query parameters a driver takes as a login secret (pg-connection-string copies every one into its config).
const SECRET_PARAMS = /pass|secret|token|key|auth/i;

/**
 * A store or queue URI fit for a message or a log: no password, in the userinfo (however many
 * `@` it holds, as the drivers split at the last one) or in the query string. A URI that does not
 * parse is shown as its scheme alone, since where its password ends cannot be known.
 */
export function redactUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1];
    return scheme ? `${scheme}://(a URI that does not parse, not shown)` : '(a URI that does not parse, not shown)';
  }
  if (url.password) url.password = '***';
  for (const name of [...url.searchParams.keys()]) if (SECRET_PARAMS.test(name)) url.searchParams.set(name, '***');
  // URL percent-encodes the stars it set: show them as written.
  return url.toString().replace(/%2A%2A%2A/g, '***');
}

/** Every form a password in `uri` may take in a driver's message: as written and decoded. */
export function secretsOfUri(uri: string): string[] {
  try {
    const url = new URL(uri);
    const found = [url.password, ...[...url.searchParams.entries()].filter(([name]) => SECRET_PARAMS.test(name)).map(([, value]) => value)].filter((s) => s.length >= 3);
    return [...new Set(found.flatMap((s) => [s, safeDecode(s)]))];
  } catch {
    return [];
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
