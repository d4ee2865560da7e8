import { randomBytes } from 'node:crypto';
import { sameSecret } from './api-token.js';

const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
/** A session token: `cps_<id>.<secret>`. The id finds the session, the secret proves it (compared in constant time). */
const SESSION_TOKEN = /^cps_([\w-]{16})\.([\w-]{43})$/;

/**
 * The browser's way in. The link `credport serve` prints carries a one-time login code in its
 * fragment (which no browser sends to any server); the page posts it once and gets a session token
 * that it keeps in sessionStorage and sends as `Authorization: Bearer`. Nothing rides along on its
 * own, as a cookie does: another port's service on this host, or a process that copies the browser's
 * cookies, receives nothing that signs in. A new code is made at every start and whenever one is used.
 */
export class LoginSessions {
  private code = randomBytes(24).toString('base64url');
  private readonly sessions = new Map<string, { secret: string; seen: number }>();
  /** Told when a code was used and a new one made (the server prints the new link). */
  onCodeUsed: (() => void) | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** The code to print in the link. */
  get loginCode(): string {
    return this.code;
  }

  /** Whether a Bearer token is shaped as a session token (else it is an API token, or nothing). */
  static isSessionToken(token: string): boolean {
    return token.startsWith('cps_');
  }

  /** A session token for the right code (used once), else undefined. */
  exchange(code: string): string | undefined {
    if (!sameSecret(code, this.code)) return undefined;
    this.code = randomBytes(24).toString('base64url');
    const id = randomBytes(12).toString('base64url');
    const secret = randomBytes(32).toString('base64url');
    this.sessions.set(id, { secret, seen: this.now() });
    this.onCodeUsed?.();
    return `cps_${id}.${secret}`;
  }

  /** The id of the live session a token proves, else undefined; using it keeps it alive. */
  valid(token: string | undefined): string | undefined {
    const [, id, secret] = SESSION_TOKEN.exec(token ?? '') ?? [];
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (!session || !sameSecret(secret!, session.secret)) return undefined;
    if (this.now() - session.seen > SESSION_IDLE_MS) {
      this.sessions.delete(id!);
      return undefined;
    }
    session.seen = this.now();
    return id;
  }

  /** Ends the session a token proves (signing out); a token that proves none ends nothing. */
  end(token: string | undefined): void {
    const id = this.valid(token);
    if (id !== undefined) this.sessions.delete(id);
  }
}
