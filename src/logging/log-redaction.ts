import { REDACTED, redact } from '../text/redact.js';
import { SHORTEST_URI_SECRET, secretsOfUri } from '../text/redact-uri.js';

/**
 * Text credport can recognise as a secret by its shape alone, whoever it belongs to: a log line
 * may quote a header, a URL or a library's error, and the values this process was given (below)
 * are not the only secrets it handles (a workspace's tokens, a connect session's, a webhook's).
 */
const SHAPES: [RegExp, string][] = [
  // API tokens (cpt_), browser sessions (cps_), connect session tokens (ccs_) and bearers (ccb_): prefix kept, the rest hidden.
  [/\b(cpt|cps|ccs|ccb)_[\w.-]+/g, `$1_${REDACTED}`],
  // A webhook endpoint's signing secret (whsec_ + base64).
  [/\bwhsec_[A-Za-z0-9+/=_-]+/g, `whsec_${REDACTED}`],
  // An Authorization or Proxy-Authorization value quoted in a message.
  [/\b(Bearer|Basic)\s+[^\s"',;]+/gi, `$1 ${REDACTED}`],
  // A URI's password (postgresql://user:pw@host, redis://:pw@host), however the URI reached the text.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@"]*:)[^\s/@"]+@/gi, `$1${REDACTED}@`],
  // The one-time login code of `serve`'s link: it signs a browser in as the operator.
  [/#login=[\w-]+/g, `#login=${REDACTED}`],
];

/**
 * The one redaction every log line of `serve` and `worker` goes through (json log format): the
 * house's rule (text/redact.ts: each secret in every spelling, and any 8-character stretch of it)
 * for the secrets this process holds, then the shapes above for those it cannot know in advance.
 */
export class LogRedaction {
  private readonly secrets = new Set<string>();

  /** Secrets learnt as the process goes (the API token once read, a key file): redacted from then on. */
  add(...values: (string | undefined)[]): this {
    for (const value of values) {
      const trimmed = value?.trim();
      if (trimmed && trimmed.length >= SHORTEST_URI_SECRET) this.secrets.add(trimmed);
    }
    return this;
  }

  /** The passwords of store, queue or Redis URIs. */
  addUri(...uris: (string | undefined)[]): this {
    for (const uri of uris) if (uri?.trim()) this.add(...secretsOfUri(uri.trim()));
    return this;
  }

  /** One piece of text, redacted. */
  text(value: string): string {
    let out = redact(value, this.secrets, SHORTEST_URI_SECRET);
    for (const [shape, replacement] of SHAPES) out = out.replace(shape, replacement);
    return out;
  }

  /**
   * One serialised log line: every string in it (keys too) redacted, as parsed values, so the line
   * stays valid JSON whatever a secret held (a quote, a backslash). A line that does not parse is
   * redacted as text and wrapped, so nothing leaves unredacted or as a line that is not JSON.
   */
  line(serialised: string): string {
    let value: unknown;
    try {
      value = JSON.parse(serialised);
    } catch {
      return `${JSON.stringify({ level: 50, time: new Date().toISOString(), msg: this.text(serialised.trim()) })}\n`;
    }
    return `${JSON.stringify(this.value(value))}\n`;
  }

  private value(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((item) => this.value(item));
    if (value !== null && typeof value === 'object') {
      // A null-prototype object: a key read from the line never lands on the prototype chain.
      const out: Record<string, unknown> = Object.create(null);
      for (const [key, item] of Object.entries(value)) out[this.text(key)] = this.value(item);
      return out;
    }
    return value;
  }
}

/** The secrets a `serve` or `worker` process is given by its environment. */
export function redactionFromEnv(env: NodeJS.ProcessEnv): LogRedaction {
  return new LogRedaction()
    .add(env.CREDPORT_API_TOKEN, env.CREDPORT_MASTER_KEY, env.CREDPORT_MASTER_KEY_NEXT)
    .addUri(env.CREDPORT_STORE, env.CREDPORT_QUEUE, env.CREDPORT_REDIS);
}
