/** Turns a decrypted secret into the Authorization header value; one small function per strategy. */
export interface AuthStrategy {
  authorization(): Promise<string>;
  /** Values that must never appear in anything credport prints (the secret, derived tokens). */
  secrets(): readonly string[];
}
