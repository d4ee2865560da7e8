import { setTimeout as sleep } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import type { RateLimitConfig } from '../generated/connector-manifest.js';
import type { SharedWindow } from './shared-window.js';

type Headers = Record<string, string | string[] | undefined>;

/**
 * One per credential per process: every request made with the credential passes here, so a 429
 * seen by one request pauses all of them, an exhausted window holds them until it turns, and no
 * more than `concurrency` of them are in flight at once (streams read side by side share it).
 */
export class RateGate {
  private pausedUntil = 0;
  private exhaustedUntil = 0;
  /** When the current fixed window opened, as far as we saw it (the answer that left limit - 1). */
  private windowOpenedAt: number | undefined;
  /**
   * Requests the provider's current window still allows, by its last answer less what we sent
   * since; with requests in flight, waiting for the window at 0 is how none of them draws a 429.
   */
  private left: number | undefined;
  private leftUntil = 0;
  private inFlight = 0;
  /** With spread: when the next request may go, so a window's budget is spent across it, not at its start. */
  private nextAt = 0;
  /** With spread: how much later than the window's turn a spent window lets the next request go (0 without spread). */
  private turnJitter = 0;
  private readonly slots: LimitFunction = pLimit(Number.POSITIVE_INFINITY);
  /**
   * Requests sent through this gate (attempts, retries included), the limit the provider last
   * announced, and how many of its windows the answers have named (a new reset is a new window).
   */
  readonly stats: { requests: number; announcedLimit?: number; windows: number } = { requests: 0, windows: 0 };

  /** The credential's budget shared with other processes and machines, when there is one (Redis). */
  private shared: SharedWindow | undefined;
  /** The shared budget's last failure, once: a gate whose Redis is away goes on with its own count. */
  sharedError: unknown;

  constructor(
    readonly now: () => number = Date.now,
    /**
     * Spread each window's requests across what is left of it, a random 0.5 to 1 of an even share
     * apart, instead of sending them as fast as they come. A worker holding hundreds of syncs whose
     * windows open together would otherwise answer them all in the same second (a burst of garbage
     * and a blocked event loop each minute); the random part keeps syncs that started together apart.
     */
    private readonly spread = spreadByDefault,
  ) {}

  /** When the next request may go at the earliest, with spread (epoch ms; in the past: now). */
  get nextSendAt(): number {
    return this.nextAt;
  }

  /** When this gate lets the next request go at the earliest, for every reason it holds one (epoch ms; in the past: now). */
  get heldUntil(): number {
    // Once the window has turned, leftUntil is past: a count at 0 holds nobody, and the next answer starts a new one.
    return Math.max(
      this.pausedUntil,
      this.exhaustedUntil,
      this.left !== undefined && this.left <= 0 ? this.leftUntil + this.turnJitter : 0,
      this.spread ? this.nextAt : 0,
    );
  }

  /** From now on every request also passes the credential's shared window. */
  share(shared: SharedWindow | undefined): void {
    this.shared = shared;
  }

  /** Requests of this credential in flight at once from now on (a sync sets it; 1 is one at a time). */
  limitInFlight(concurrency: number): void {
    this.slots.concurrency = Math.max(1, Math.floor(concurrency));
  }

  /** Runs one request (with its retries) in a slot: at most `concurrency` run at once. */
  run<T>(request: () => Promise<T>): Promise<T> {
    return this.slots(async () => {
      this.inFlight += 1;
      try {
        return await request();
      } finally {
        this.inFlight -= 1;
      }
    });
  }

  /** Waits while the provider asked us to, or while its window has nothing left; returns how long it waited. */
  async acquire(): Promise<number> {
    let waited = 0;
    for (;;) {
      const now = this.now();
      const wait = this.heldUntil - now;
      if (wait <= 0) {
        const sharedWait = this.shared ? await this.shared.take().catch((error: unknown) => this.sharedFailed(error)) : 0;
        if (sharedWait <= 0) {
          if (this.left !== undefined) this.left -= 1;
          this.stats.requests += 1;
          if (this.spread && this.left !== undefined && this.left > 0 && now < this.leftUntil)
            this.nextAt = now + ((this.leftUntil - now) / (this.left + 1)) * (0.5 + Math.random() / 2);
          return waited;
        }
        // Another process spent the window, or drew a 429: wait as if we had.
        await sleep(Math.min(sharedWait, MAX_WAIT));
        waited += Math.min(sharedWait, MAX_WAIT);
        continue;
      }
      await sleep(wait);
      waited += wait;
    }
  }

  /** Fails open: the shared count is lost for now, the provider's own answers still pace this gate. */
  private sharedFailed(error: unknown): number {
    this.sharedError ??= error;
    return 0;
  }

  /**
   * Reads Front-style `x-ratelimit-remaining` / `x-ratelimit-reset` from any answer. A provider
   * with a fixed window and no reset header (Frontline) is held until the window turns instead.
   */
  observe(headers: Headers, window?: RateLimitConfig): void {
    const remaining = Number(first(headers['x-ratelimit-remaining']));
    const limit = Number(first(headers['x-ratelimit-limit']));
    const now = this.now();
    if (Number.isFinite(limit) && limit > 0) this.stats.announcedLimit = limit;
    if (window && remaining === limit - 1) this.windowOpenedAt = now;
    if (!Number.isFinite(remaining)) return;
    const reset = resetAt(first(headers['x-ratelimit-reset']), now) ?? (window ? this.windowEndsAt(window) : undefined);
    if (reset === undefined) return;
    // Requests still in flight may not be counted in this answer yet: assume they are not. An
    // answer overtaken by a later one must not raise what is left, so within a window keep the lower.
    const until = Math.min(reset, now + MAX_WAIT);
    const estimate = remaining - Math.max(0, this.inFlight - 1);
    const sameWindow = this.left !== undefined && now < this.leftUntil && Math.abs(until - this.leftUntil) < SAME_WINDOW_MS;
    this.left = sameWindow ? Math.min(this.left!, estimate) : estimate;
    if (!sameWindow) {
      this.leftUntil = until;
      this.stats.windows += 1;
      if (this.spread && now < until) {
        const share = (until - now) / (Math.max(0, estimate) + 1);
        // The first answer of a window: the request after it goes a random part of an even share
        // later, so syncs that started together do not all send their second request together...
        if (estimate > 0) this.nextAt = Math.max(this.nextAt, now + share * Math.random());
        // ...and a window spent to its end is waited for a random part of a share longer, so the
        // windows of syncs that started together drift apart instead of all turning in one second.
        this.turnJitter = share * Math.random();
      }
    }
    this.shared?.observe(estimate, until).catch((error: unknown) => this.sharedFailed(error));
    // A reset far in the future is a bad header, not a reason to stall every request for hours.
    if (remaining <= 0) this.exhaustedUntil = Math.max(this.exhaustedUntil, Math.min(reset, now + MAX_WAIT) + this.turnJitter);
  }

  /**
   * When a fixed window ends: the window we saw open plus its length, or, when we did not see it
   * open (another process, a window already under way), a whole window from now, which is always
   * late enough since the current window ends within one window length.
   */
  windowEndsAt(window: RateLimitConfig): number {
    const now = this.now();
    const seen = this.windowOpenedAt === undefined ? undefined : this.windowOpenedAt + window.windowMs;
    return seen !== undefined && seen > now ? seen : now + window.windowMs;
  }

  /** Whether the provider's window its last answer named is still open (the next answer counts in it). */
  inWindow(): boolean {
    return this.left !== undefined && this.now() < this.leftUntil;
  }

  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
    this.shared?.pause(ms).catch((error: unknown) => this.sharedFailed(error));
  }
}

const gates = new Map<string, RateGate>();
let spreadByDefault = false;

/** Gates made from now on spread each window's requests across it (credport worker --spread). */
export function spreadRequests(on: boolean): void {
  spreadByDefault = on;
}

/** The gate every client of this credential in this process shares. */
export function gateFor(key: string): RateGate {
  let gate = gates.get(key);
  if (!gate) {
    gate = new RateGate();
    gates.set(key, gate);
  }
  return gate;
}

const MIN_WAIT = 50;
// Resets within a second of each other name one window (Front sends whole seconds).
const SAME_WINDOW_MS = 1000;
const MAX_WAIT = 120_000;

/**
 * How long a 429 asks us to wait. Front documents `retry-after` in seconds, but answers have said
 * "Please retry in 341 milliseconds": a body that says milliseconds wins, a value over two minutes
 * cannot be seconds for a per-minute limit, an HTTP date is a date; else the reset header, else
 * the end of a fixed window when the provider has one (`windowEndsAt`), else 1 s.
 */
export function retryAfterMs(headers: Headers, body: unknown, now = Date.now(), windowEndsAt?: number): number {
  const raw = first(headers['retry-after']);
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
  let ms: number | undefined;
  if (raw !== undefined && raw.trim() !== '') {
    const n = Number(raw);
    if (Number.isFinite(n)) ms = /millisecond/i.test(text) || n > 120 ? n : n * 1000;
    else if (!Number.isNaN(Date.parse(raw))) ms = Date.parse(raw) - now;
  }
  if (ms === undefined) {
    const reset = resetAt(first(headers['x-ratelimit-reset']), now);
    ms = reset !== undefined ? reset - now : windowEndsAt !== undefined ? windowEndsAt - now : 1000;
  }
  return Math.min(MAX_WAIT, Math.max(MIN_WAIT, ms));
}

/** `x-ratelimit-reset`: Front sends a UNIX time in seconds; accept milliseconds or a delta too. */
function resetAt(raw: string | undefined, now: number): number | undefined {
  const n = Number(raw);
  if (raw === undefined || !Number.isFinite(n)) return undefined;
  if (n > 1e12) return n;
  if (n > 1e9) return n * 1000;
  return now + n * 1000;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
