import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { InputError } from '../errors.js';
import type { Collection, Fence, Revised } from '../store/collection.js';

/** A destination's lease as stored: the last token handed out, and who holds it until when. */
export interface LeaseRecord extends Revised {
  destination: string;
  /** Grows by one at each new holder: a write fenced with an older token is refused. */
  token: number;
  /** Absent once released. */
  holder?: { host: string; pid: number; id: string };
  /** Epoch milliseconds; the lease is free after it. */
  expiresAt: number;
}

export interface HeldLease {
  readonly token: number;
  /** For the collections the run writes through: their writes land only while this lease holds. */
  readonly fence: Fence;
  release(): Promise<void>;
}

export interface LeaseOptions {
  /** How long a holder that stops renewing keeps it (default 30 s, CREDPORT_LEASE_MS). */
  ttlMs?: number;
  now?: () => number;
}

export const LEASE_PREFIX = 'lease:';
const DEFAULT_TTL_MS = 30_000;
// Lost races before a lease is refused as busy: each retry re-reads, so only other syncs taking it again and again exhaust them.
const ATTEMPTS = 10;

/**
 * Holders this process let go of but could not mark free (the store was down when their sync
 * ended): by their random id, which only this process knows. A retry of that sync, in this
 * process, would otherwise meet its own lease as another's and wait for it to run out.
 */
const abandoned = new Set<string>();

/**
 * One sync at a time per destination, across processes and machines: two runs writing one ledger
 * would each send what the other had not yet marked. The lease lives in the shared store with an
 * expiry the holder renews; another process takes it over only after it expires, or at once when
 * its holder was a process on this machine that is gone (`kill -9`, then a rerun). Each new holder
 * gets a higher token, and the run's checkpoints and ledger entries are written fenced by it.
 */
export async function acquireLease(leases: Collection<LeaseRecord>, destination: string, options: LeaseOptions = {}): Promise<HeldLease> {
  const ttl = options.ttlMs ?? DEFAULT_TTL_MS;
  const now = options.now ?? Date.now;
  const holder = { host: hostname(), pid: process.pid, id: randomBytes(8).toString('hex') };
  const { record, before } = await leases.change(
    destination,
    (current) => {
      if (!current) return { destination, token: 1, holder, expiresAt: now() + ttl };
      const busy = busyWith(current, now());
      if (busy) throw busy;
      return { destination, token: current.token + 1, holder, expiresAt: now() + ttl };
    },
    {
      attempts: ATTEMPTS,
      conflict: () =>
        new InputError(`destination ${destination} could not be leased: other syncs kept taking it`, { code: 'destination_busy' }),
    },
  );
  if (before?.holder) abandoned.delete(before.holder.id);
  return held(leases, record, ttl, now);
}

/**
 * Refuses, as busy, a destination whose lease another sync holds right now: the same refusal the
 * run would meet, said before it starts (POST /syncs answers 409 at once). Only a courtesy: the
 * lease may be taken between this look and the run, and then the run is refused as before.
 */
export async function refuseIfLeased(leases: Collection<LeaseRecord>, destination: string, options: LeaseOptions = {}): Promise<void> {
  const current = await leases.get(destination);
  const busy = current && busyWith(current, (options.now ?? Date.now)());
  if (busy) throw busy;
}

/** The refusal a lease record makes while a live holder has it (not expired, not a gone or abandoned process of this machine). */
function busyWith(current: LeaseRecord, now: number): InputError | undefined {
  if (!current.holder || current.expiresAt <= now || gone(current.holder) || abandoned.has(current.holder.id)) return undefined;
  const { host, pid } = current.holder;
  return new InputError(
    `destination ${current.destination} is being written by another sync (process ${pid} on ${host}, its lease runs until ` +
      `${new Date(current.expiresAt).toISOString()} unless renewed); wait for it to finish`,
    { code: 'destination_busy' },
  );
}

function held(leases: Collection<LeaseRecord>, taken: LeaseRecord, ttl: number, now: () => number): HeldLease {
  let mine = taken;
  let lost = false;
  // One renewal at a time: two in flight would start from one revision, and the loser would read
  // its own renewal as a takeover.
  let renewing: Promise<void> = Promise.resolve();
  // Renewed at a third of its life: two renewals can fail (a slow store) before it expires.
  const timer = setInterval(
    () => {
      renewing = renewing.then(renew);
    },
    Math.max(ttl / 3, 50),
  );
  timer.unref();
  async function renew(): Promise<void> {
    if (lost) return;
    const next = { ...mine, expiresAt: now() + ttl, rev: (mine.rev ?? 0) + 1 };
    try {
      if (await leases.swap(mine.destination, next, mine.rev ?? 0)) {
        mine = next;
        return;
      }
      // The record moved on: ours still (a renewal we did not see land), or another holder's.
      const current = await leases.get(mine.destination);
      if (current && current.token === mine.token && current.holder?.id === mine.holder?.id) mine = current;
      else stop(); // taken over: the next fenced write says so
    } catch {
      // the store is away for now; the next renewal tries again before the lease runs out
    }
  }
  function stop(): void {
    lost = true;
    clearInterval(timer);
  }
  return {
    token: taken.token,
    fence: {
      key: LEASE_PREFIX + taken.destination,
      token: taken.token,
      lost: () =>
        `this sync lost destination ${taken.destination} to another one (its lease ran ` +
        `out${lost ? '' : ' while this process was stalled'}, token ${taken.token} is no longer current); it stopped without ` +
        `writing more: the other run carries on from the last checkpoint`,
    },
    async release() {
      clearInterval(timer);
      await renewing; // a renewal in flight lands first, so the release builds on it
      if (lost) return;
      // The record stays, with its token, so the next holder's is higher; it is merely free.
      const free: LeaseRecord = { destination: mine.destination, token: mine.token, expiresAt: 0, rev: (mine.rev ?? 0) + 1 };
      // The store away (an outage ended this sync): the record still names this holder, so this
      // process remembers it let go, and its next sync of the destination takes it over at once.
      await leases.swap(mine.destination, free, mine.rev ?? 0).catch(() => {
        if (mine.holder) abandoned.add(mine.holder.id);
      });
    },
  };
}

/** A holder on this machine whose process is gone: its lease need not run out first. */
function gone(holder: NonNullable<LeaseRecord['holder']>): boolean {
  if (holder.host !== hostname()) return false;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'EPERM';
  }
}
