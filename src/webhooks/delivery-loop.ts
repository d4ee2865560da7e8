import { CredportError } from '../errors.js';
import type { Collection } from '../store/collection.js';
import { acquireLease, type HeldLease, type LeaseRecord } from '../sync/destination-lease.js';
import { failureReason } from '../text/failure-reason.js';
import type { Outbox, OutboxEvent } from './outbox.js';
import { nextRetryDelay, RETRY_DELAYS_MS } from './retry-schedule.js';
import { ATTEMPTS_KEPT, type DeliveryAttemptRecord, type DeliveryRecord, deliveryKey } from './webhook-deliveries.js';
import type { WebhookEndpointRecord, WebhookEndpoints } from './webhook-endpoints.js';

/**
 * The delivery side of the outbox, run by `serve` and `worker` (and a host that asks): every tick,
 *  1. intents a crash left are settled (outbox.recover, once a minute);
 *  2. ready events are fanned out, in id order, to a delivery per subscribed, enabled endpoint of
 *     their workspace (one process at a time: the `webhook-fanout` lease), then let go of;
 *  3. each endpoint with a delivery due gets a lane: under the endpoint's lease (one sender per
 *     endpoint across processes), its pending deliveries are sent one at a time, oldest first. A
 *     failure stops the lane until its retry is due: later events wait behind it, so the receiver
 *     gets them in order once it recovers. Lanes run side by side: a slow receiver holds only its own.
 * A delivery's record is written after its POST, fenced by the lease: a crash in between sends it
 * again later, with the same webhook-id, which is what receivers de-duplicate by.
 */

export interface DeliveryLoopDeps {
  outbox: Outbox;
  deliveries: Collection<DeliveryRecord>;
  endpoints: WebhookEndpoints;
  leases: Collection<LeaseRecord>;
  retryDelays?: readonly number[];
  /** A lease left by a stalled or killed process is taken over after this (default 30 s). */
  leaseMs?: number;
  /** Endpoints sent to at once (default 16). */
  lanes?: number;
  now?: () => number;
  random?: () => number;
  /** How often intents are settled (default 60 s). */
  recoverEveryMs?: number;
  /** Said when something fails that the loop carries on from (the store away): a warning by default. */
  onTrouble?: (message: string) => void;
}

/** Delivered records kept per endpoint for GET /webhooks/{id}/deliveries: the newest this many (failed ones stay). */
export const DELIVERED_KEPT = 200;
const FANOUT_LEASE = 'webhook-fanout';
/** Events let go of at once after fan-out: enough to keep the store busy, few enough to bound what is in flight. */
const DONE_BATCH = 64;

export interface RunningDelivery {
  /** Looks now rather than at the next tick (an event was made in this process). */
  wake(): void;
  /** Stops ticking and waits for the lanes sending now to finish their current delivery. */
  stop(): Promise<void>;
}

export class DeliveryLoop {
  private readonly running = new Map<string, Promise<void>>();
  private lastRecover = Number.NEGATIVE_INFINITY;
  private ticking: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly deps: DeliveryLoopDeps) {}

  /**
   * One look: settle, fan out, start a lane for each endpoint with a delivery due. Resolves when the
   * lanes due now are done (a test's or a host's drain waits on it; the ticking loop does not).
   */
  async pass(): Promise<void> {
    await Promise.all(await this.look());
  }

  /** Passes until nothing is due now: every event delivered, failed, or waiting for a retry later. */
  async drain(maxPasses = 1000): Promise<void> {
    for (let i = 0; i < maxPasses; i++) {
      await this.pass();
      if ((await this.dueEndpoints()).length === 0 && (await this.deps.outbox.readyEvents()).length === 0) return;
    }
  }

  /** Ticks every `everyMs` (and when woken) until stopped; each tick's lanes run on without holding the next tick back. */
  start(everyMs = 1000): RunningDelivery {
    const tick = () => {
      if (this.stopped) return;
      if (this.ticking !== undefined) {
        this.again = true;
        return;
      }
      this.ticking = this.tickOnce().finally(() => {
        this.ticking = undefined;
        if (this.again) {
          this.again = false;
          tick();
        }
      });
    };
    const timer = setInterval(tick, everyMs);
    timer.unref();
    tick();
    return {
      wake: tick,
      stop: async () => {
        this.stopped = true;
        clearInterval(timer);
        await this.ticking;
        await Promise.all(this.running.values());
      },
    };
  }

  private async tickOnce(): Promise<void> {
    try {
      // The lanes run on by themselves (their failures are said as they happen): the next tick does not wait for them.
      void (await this.look());
    } catch (error) {
      this.trouble(`webhook delivery: ${failureReason(error)}`);
    }
  }

  /** Settles, fans out, and answers the lanes of the endpoints due now (started here, or already running). */
  private async look(): Promise<Promise<void>[]> {
    await this.settleIntents();
    await this.fanOut();
    const lanes: Promise<void>[] = [];
    for (const endpointId of await this.dueEndpoints()) {
      const running = this.running.get(endpointId);
      if (running !== undefined) {
        lanes.push(running);
        continue;
      }
      if (this.running.size >= (this.deps.lanes ?? 16)) break;
      const lane = this.lane(endpointId)
        .catch((error: unknown) => this.trouble(`webhook endpoint ${endpointId}: ${failureReason(error)}`))
        .finally(() => this.running.delete(endpointId));
      this.running.set(endpointId, lane);
      lanes.push(lane);
    }
    return lanes;
  }

  private async settleIntents(): Promise<void> {
    const every = this.deps.recoverEveryMs ?? 60_000;
    if (this.now() - this.lastRecover < every) return;
    this.lastRecover = this.now();
    await this.deps.outbox.recover();
  }

  /** Ready events to deliveries, oldest first, by one process at a time (two would interleave their inserts out of order). */
  private async fanOut(): Promise<void> {
    if ((await this.deps.outbox.readyEvents()).length === 0) return;
    const lease = await this.lease(FANOUT_LEASE);
    if (!lease) return;
    try {
      // Read again under the lease: a list read before it may hold events another process has fanned out
      // since, whose deliveries may be delivered and pruned by now (inserted again, they would be sent again).
      const events = await this.deps.outbox.readyEvents();
      const endpoints = await this.deps.endpoints.allForDelivery();
      const deliveries = this.deps.deliveries.fencedBy(lease.fence);
      // Inserted one at a time, in id order: a lane in another process reads a prefix of them, never a gap.
      // Letting go of the events handed out need not wait in that line (a crash before it only makes the next
      // fan-out insert nothing twice), so those deletes go to the store side by side, a batch at a time.
      const handedOut: string[] = [];
      for (const event of events) {
        for (const endpoint of endpoints.filter((e) => subscribed(e, event)))
          await deliveries.insert(deliveryKey(endpoint.id, event.id), newDelivery(endpoint, event));
        handedOut.push(event.id);
        if (handedOut.length === DONE_BATCH) await this.letGo(handedOut.splice(0));
      }
      await this.letGo(handedOut);
    } finally {
      await lease.release();
    }
  }

  private async letGo(ids: string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.deps.outbox.done(id)));
  }

  /** Endpoints whose oldest pending delivery is due now (a disabled one's wait until it is enabled again). */
  private async dueEndpoints(): Promise<string[]> {
    const now = this.now();
    const disabled = new Set((await this.deps.endpoints.allForDelivery()).filter((e) => !e.enabled).map((e) => e.id));
    const heads = new Map<string, DeliveryRecord>();
    for (const [, d] of await this.deps.deliveries.entries({ field: 'status', equals: 'pending' })) {
      if (d instanceof Error || d.status !== 'pending') continue;
      const head = heads.get(d.endpointId);
      if (!head || d.eventId < head.eventId) heads.set(d.endpointId, d);
    }
    return [...heads.values()].filter((d) => (d.nextAttemptAt ?? 0) <= now && !disabled.has(d.endpointId)).map((d) => d.endpointId);
  }

  /** One endpoint's pending deliveries, in order, under its lease, until one fails or none is left. */
  private async lane(endpointId: string): Promise<void> {
    const lease = await this.lease(`webhook:${endpointId}`);
    if (!lease) return;
    try {
      const endpoint = await this.deps.endpoints.forDelivery(endpointId);
      const all = await this.deps.deliveries.where('endpointId', endpointId);
      const deliveries = this.deps.deliveries.fencedBy(lease.fence);
      if (!endpoint) {
        // Deleted: what was waiting for it has nowhere to go.
        for (const d of all) await deliveries.delete(deliveryKey(d.endpointId, d.eventId)).catch(() => undefined);
        return;
      }
      if (!endpoint.enabled) return;
      const pending = all.filter((d) => d.status === 'pending').sort(byEvent);
      // Delivered before this run, and by it: the oldest beyond DELIVERED_KEPT are let go when the run ends.
      const delivered = all.filter((d) => d.status === 'delivered');
      // A delivered one's record is written while the next is sent (the store's round trip off the lane's
      // path); it must land before the one after is sent, so a crash sends again at most those two, in order.
      let recording: Promise<void> | undefined;
      try {
        for (const delivery of pending) {
          if (this.stopped) return;
          if ((delivery.nextAttemptAt ?? 0) > this.now()) return; // the head waits for its retry; the rest wait behind it
          const sent = await this.send(endpoint, delivery, deliveries);
          await recording; // a lost lease says so here, and stops the lane
          recording = sent.recorded;
          if (!sent.delivered) return;
          delivered.push(delivery);
        }
      } finally {
        await recording; // pruned once every record of this run has landed
        await this.prune(delivered, deliveries);
      }
    } finally {
      await lease.release();
    }
  }

  /**
   * One attempt; `delivered`, and `recorded` once its record is written (a failure's is written before
   * this answers). A delivery whose schedule is spent fails, and disables its endpoint.
   */
  private async send(
    endpoint: WebhookEndpointRecord,
    delivery: DeliveryRecord,
    deliveries: Collection<DeliveryRecord>,
  ): Promise<{ delivered: boolean; recorded: Promise<void> }> {
    const answer = await this.deps.endpoints.deliver(endpoint, { id: delivery.eventId, body: delivery.body });
    const { webhookId: _id, ...rest } = answer;
    const attempt: DeliveryAttemptRecord = { at: new Date(this.now()).toISOString(), ...rest };
    const attempts = [...delivery.attempts, attempt].slice(-ATTEMPTS_KEPT);
    const key = deliveryKey(delivery.endpointId, delivery.eventId);
    if (answer.delivered) {
      const { nextAttemptAt: _n, ...done } = delivery;
      const recorded = deliveries.put(key, { ...done, status: 'delivered', failures: 0, attempts });
      // Awaited by the lane after the next POST: marked handled meanwhile, so a failure waits for it there.
      recorded.catch(() => undefined);
      return { delivered: true, recorded };
    }
    const failures = delivery.failures + 1;
    const wait = nextRetryDelay(failures, this.deps.retryDelays ?? RETRY_DELAYS_MS, this.deps.random);
    if (wait === undefined) {
      const { nextAttemptAt: _n, ...spent } = delivery;
      await deliveries.put(key, { ...spent, status: 'failed', failures, attempts });
      const first = delivery.attempts.find((a) => !a.delivered)?.at ?? attempt.at;
      await this.deps.endpoints.disable(
        endpoint.id,
        `deliveries failed since ${first} (${failures} attempts of ${delivery.type} ${delivery.eventId}; the last: ${answer.error ?? 'no answer'}); ` +
          'fix the receiver, then enable the endpoint: what waits is sent in order',
      );
      return { delivered: false, recorded: Promise.resolve() };
    }
    await deliveries.put(key, { ...delivery, failures, attempts, nextAttemptAt: this.now() + wait });
    return { delivered: false, recorded: Promise.resolve() };
  }

  /** Delivered records beyond the newest DELIVERED_KEPT of the endpoint are let go (failed and pending stay). */
  private async prune(delivered: DeliveryRecord[], deliveries: Collection<DeliveryRecord>): Promise<void> {
    delivered.sort(byEvent);
    for (const old of delivered.slice(0, Math.max(0, delivered.length - DELIVERED_KEPT)))
      await deliveries.delete(deliveryKey(old.endpointId, old.eventId));
  }

  /** The lease, or undefined when another process holds it (it is doing this work now). */
  private async lease(key: string): Promise<HeldLease | undefined> {
    try {
      return await acquireLease(this.deps.leases, key, this.deps.leaseMs ? { ttlMs: this.deps.leaseMs } : {});
    } catch (error) {
      if (error instanceof CredportError && error.code === 'destination_busy') return undefined;
      throw error;
    }
  }

  private trouble(message: string): void {
    if (this.deps.onTrouble) this.deps.onTrouble(message);
    else process.emitWarning(message, { code: 'CREDPORT_WEBHOOKS' });
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }
}

function subscribed(endpoint: WebhookEndpointRecord, event: OutboxEvent): boolean {
  return endpoint.enabled && endpoint.workspace === event.workspace && event.type !== undefined && endpoint.events.includes(event.type);
}

function newDelivery(endpoint: WebhookEndpointRecord, event: OutboxEvent): DeliveryRecord {
  return {
    v: 1,
    eventId: event.id,
    endpointId: endpoint.id,
    workspace: event.workspace,
    type: event.type!,
    // The body is fixed here, once: every retry sends (and signs) exactly the same bytes.
    body: JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data ?? {} }),
    status: 'pending',
    createdAt: event.timestamp,
    failures: 0,
    attempts: [],
  };
}

const byEvent = (a: DeliveryRecord, b: DeliveryRecord) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
