/** Turns a decrypted secret into the Authorization header value; one small function per strategy. */
export interface AuthStrategy {
  authorization(): Promise<string>;
  /** Values that must never appear in anything credport prints (the secret, derived tokens). */
  secrets(): readonly string[];
  /**
   * Strategies with short-lived tokens: forget `header` after the API answered 401 to it, so the
   * next authorization() exchanges again. A header already replaced is left alone, so many
   * requests failing with one stale token cause one exchange.
   */
  invalidate?(header: string): void;
  /** When the current token expires (ms since the epoch), for the tile. */
  expiresAt?(): number | undefined;
}
