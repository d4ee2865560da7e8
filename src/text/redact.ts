/**
 * The one way credport hides secrets in text it lets out: errors, logs, what a provider said
 * (kept on a tile or in the audit trail) and store or queue URIs (see redact-uri.ts).
 *
 * The marker is `***`, everywhere (it was `[REDACTED]` in HTTP errors). Three characters, shorter
 * than a stretch (below), so the marker can never itself be a part of a secret long enough to
 * count; the URL classes leave it unencoded in a URI's userinfo and query
 * (`postgresql://user:***@host`); and readers know it from masked values in CI logs.
 *
 * The rule, one for every caller: a secret is hidden wherever it stands, in any letter case and
 * in each spelling it may take in a message (as written, URL-encoded, URL-decoded, JSON-escaped);
 * so is every stretch of STRETCH (8) of its characters, so that no large part of it survives
 * where a provider or a driver quoted it cut short. Where hidden stretches touch or overlap (one
 * secret inside another, two side by side), they become one marker: no sliver between two
 * markers is left over. Eight, not fewer, because a shorter stretch of a long random token
 * turns up in ordinary words, dates and ids and would blank them.
 *
 * What differs by caller is only which strings count as secrets, given as `shortest`: a secret
 * shorter than that is not looked for, since it would blank ordinary words ("a", "bad", "test")
 * and hides next to nothing. By default 4 (a credential's secrets, in what a provider says);
 * 3 for a URI's password; 8 for text credport keeps, whose provider words were already redacted.
 */
export const REDACTED = '***';

/** A stretch of a secret this long or longer is hidden too. */
export const STRETCH = 8;

export function redact(text: string, secrets: Iterable<unknown>, shortest = 4): string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length === 0 || secret.length < shortest) continue;
    for (const spelling of spellingsOf(secret)) {
      needles.add(spelling);
      for (let i = 0; i + STRETCH <= spelling.length; i++) needles.add(spelling.slice(i, i + STRETCH));
    }
  }
  if (needles.size === 0 || text === '') return text;
  const hidden: [number, number][] = [];
  for (const needle of needles) {
    // Every occurrence, overlapping ones too ("aaaa" twice in "aaaaa"), in any letter case.
    const find = new RegExp(escapeRegExp(needle), 'gi');
    for (let found = find.exec(text); found; found = find.exec(text)) {
      hidden.push([found.index, found.index + found[0].length]);
      find.lastIndex = found.index + 1;
    }
  }
  if (hidden.length === 0) return text;
  hidden.sort((a, b) => a[0] - b[0]);
  let out = '';
  let kept = 0;
  for (let i = 0; i < hidden.length; ) {
    const start = hidden[i]![0];
    let end = hidden[i]![1];
    for (i++; i < hidden.length && hidden[i]![0] <= end; i++) end = Math.max(end, hidden[i]![1]);
    out += text.slice(kept, start) + REDACTED;
    kept = end;
  }
  return out + text.slice(kept);
}

/** The ways a secret may be written in a message: as given, URL-encoded, URL-decoded, inside a JSON string. */
function spellingsOf(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), safeDecode(secret), JSON.stringify(secret).slice(1, -1)])].filter(
    (s) => s !== '',
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
