/** What a sync reports while it runs: the CLI draws bars from these, hosts read them as JSON lines. */
export type SyncEvent =
  /**
   * `resumedRun`: this sync finishes an interrupted run; `skipped`: its streams that run already
   * finished (not read again); `resumed`: streams that continue from a checkpoint.
   */
  | {
      event: 'started';
      source: string;
      destination: string;
      run: string;
      resumedRun: boolean;
      streams: string[];
      resumed: string[];
      skipped: string[];
      concurrency: number;
    }
  /** A stream began reading (streams wait for a slot when there are more than the concurrency). */
  | { event: 'stream_started'; stream: string; fromCheckpoint: boolean }
  | { event: 'page'; stream: string; page: number; records: number; total: number; sent: number; rejected: number; skipped: number }
  | { event: 'checkpoint'; stream: string; pages: number; records: number; offset: number }
  | { event: 'rate_limited'; stream: string; waitMs: number }
  | { event: 'retry'; stream: string; waitMs: number; reason: string }
  | { event: 'link_rewritten'; stream: string; origin: string }
  | { event: 'stream_finished'; stream: string; pages: number; records: number; sent: number; rejected: number; skipped: number }
  | { event: 'finished'; summary: SyncSummary }
  | { event: 'failed'; stream: string | undefined; code: string; message: string; exitCode: number };

export interface SyncSummary {
  source: string;
  destination: string;
  streams: Record<string, { records: number; pages: number; sent: number; rejected: number; skipped: number }>;
  records: number;
  pages: number;
  /** Written this run; rejected (see the rejects file); skipped because an earlier run wrote them. */
  sent: number;
  rejected: number;
  skipped: number;
  /** Streams an interrupted run had finished: counted above, not read again by this sync. */
  finishedEarlier?: string[];
  /** Where rejected records are, with their reasons, when there are any. */
  rejects?: string;
  rateLimited: number;
  retries: number;
  ms: number;
  /** Requests made with the source's credential, and the rate reached against the provider's limit when it announces one. */
  rate?: SyncRate;
}

export interface SyncRate {
  requests: number;
  perMinute: number;
  /** The provider's limit per minute: its x-ratelimit-limit over the manifest's window. */
  limitPerMinute?: number;
  /** perMinute / limitPerMinute. */
  ofLimit?: number;
}
