/** Stretches of a secret this long or longer are taken out of text that is kept (an audit detail, a tile's reason). */
const STRETCH = 8;

/**
 * The provider's words, kept for later, less anything of the secrets they may echo: the whole
 * secret in any case or URL-encoded, and any stretch of 8 or more of its characters. The HTTP
 * layer already takes out an exact copy; what is stored must not keep a partial one either.
 */
export function scrubSecrets(text: string, secrets: Readonly<Record<string, unknown>>): string {
  let out = text;
  for (const secret of Object.values(secrets)) {
    if (typeof secret !== 'string' || secret.length < STRETCH) continue;
    for (const form of [secret, encodeURIComponent(secret)]) out = out.split(form).join('***');
    out = out.replace(new RegExp(escapeRegExp(secret), 'gi'), '***');
    for (let i = 0; i + STRETCH <= secret.length; i++) {
      const stretch = secret.slice(i, i + STRETCH);
      if (out.includes(stretch)) out = out.split(stretch).join('***');
    }
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
