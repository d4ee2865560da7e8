// Apart from provider-client.ts, so that code which only reads the settings does not load got.

export interface HttpSettings {
  /** Whole-request timeout, retries included in none: each attempt gets this long. */
  timeoutMs: number;
  /** Retries of idempotent requests on network errors, 408/429/5xx. */
  retries: number;
}

export const DEFAULT_HTTP: HttpSettings = { timeoutMs: 10_000, retries: 2 };
