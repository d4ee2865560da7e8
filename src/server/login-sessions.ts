import { randomBytes } from 'node:crypto';
import { sameSecret } from './api-token.js';

const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;

/**
 * The browser's way in, as notebook servers do it: the URL `credport serve` prints carries a
 * one-time login code; the server swaps it for an HttpOnly session cookie and drops it from the
 * address bar. A new code is made at every start and whenever one is used.
 */
export class LoginSessions {
  private code = newSecret();
  private readonly sessions = new Map<string, number>();
  /** Told when a code was used and a new one made (the server prints the new link). */
  onCodeUsed: (() => void) | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** The code to print in the URL. */
  get loginCode(): string {
    return this.code;
  }

  /** A session id for the right code (used once), else undefined. */
  exchange(code: string): string | undefined {
    if (!sameSecret(code, this.code)) return undefined;
    this.code = newSecret();
    const id = newSecret();
    this.sessions.set(id, this.now());
    this.onCodeUsed?.();
    return id;
  }

  /** Whether the cookie names a live session; touching it keeps it alive. */
  valid(id: string | undefined): boolean {
    if (!id) return false;
    const seen = this.sessions.get(id);
    if (seen === undefined) return false;
    if (this.now() - seen > SESSION_IDLE_MS) {
      this.sessions.delete(id);
      return false;
    }
    this.sessions.set(id, this.now());
    return true;
  }

  end(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }
}

function newSecret(): string {
  return randomBytes(24).toString('base64url');
}
