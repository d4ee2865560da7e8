/**
 * One credential's rate budget shared by every process and machine that uses it. The gate asks
 * it before each request, and tells it what the provider's answers said.
 */
export interface SharedWindow {
  /** Counts one request and returns 0 when it may go; else how long to wait before asking again. */
  take(): Promise<number>;
  /** The provider's window has `left` requests until `resetAt` (epoch ms), as its latest answer said. */
  observe(left: number, resetAt: number): Promise<void>;
  /** A 429 asked for `ms` of quiet: every process holds its requests that long. */
  pause(ms: number): Promise<void>;
}

/** Where a gate finds its credential's shared window (Redis, when CREDPORT_REDIS is set). */
export interface SharedWindows {
  for(credentialId: string): SharedWindow;
  close(): Promise<void>;
}
