import { CredportError } from '../errors.js';
import type { Collection } from '../store/collection.js';
import { acquireLease, type HeldLease, type LeaseRecord } from '../sync/destination-lease.js';
import { failureReason } from '../text/failure-reason.js';
import type { Outbox, OutboxEvent } from './outbox.js';
import { nextRetryDelay, RETRY_DELAYS_MS } from './retry-schedule.js';
import { ATTEMPTS_KEPT, type DeliveryAttemptRecord, type DeliveryRecord, deliveryKey } from './webhook-deliveries.js';
import type { DeliveryAttempt } from './webhook-sender.js';
import { publish } from '../telemetry/channels.js';
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
/** Events fanned out a look, and deliveries a lane reads at a time: a burst is never all in memory. */
const FANOUT_SLICE = 500;
const LANE_SLICE = 200;
const PENDING = { field: 'status', equals: 'pending' } as const;
const DELIVERED = { field: 'status', equals: 'delivered' } as const;

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
    // A burst is fanned out a slice a look; the lanes started by the first look send while the rest comes in.
    const lanes = new Set<Promise<void>>();
    for (;;) {
      const look = await this.look();
      for (const lane of look.lanes) lanes.add(lane);
      if (!look.more) break;
    }
    await Promise.all(lanes);
  }

  /** Passes until nothing is due now: every event delivered, failed, or waiting for a retry later. */
  async drain(maxPasses = 1000): Promise<void> {
    for (let i = 0; i < maxPasses; i++) {
      await this.pass();
      if ((await this.dueEndpoints()).length === 0 && (await this.deps.outbox.readyEvents(1)).length === 0) return;
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
      const look = await this.look();
      // More of a burst to fan out: the next look comes at once, while the lanes send.
      if (look.more) this.again = true;
    } catch (error) {
      this.trouble(`webhook delivery: ${failureReason(error)}`);
    }
  }

  /**
   * Settles, fans out a slice, and answers the lanes of the endpoints due now (started here, or
   * already running), and whether more events wait to be fanned out.
   */
  private async look(): Promise<{ lanes: Promise<void>[]; more: boolean }> {
    await this.settleIntents();
    const more = await this.fanOut();
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
    return { lanes, more };
  }

  private async settleIntents(): Promise<void> {
    const every = this.deps.recoverEveryMs ?? 60_000;
    if (this.now() - this.lastRecover < every) return;
    this.lastRecover = this.now();
    await this.deps.outbox.recover();
  }

  /**
   * Ready events to deliveries, oldest first, a slice at a time, by one process at a time (two would
   * interleave their inserts out of order). Answers whether more were left for the next look.
   */
  private async fanOut(): Promise<boolean> {
    if ((await this.deps.outbox.readyEvents(1)).length === 0) return false;
    const lease = await this.lease(FANOUT_LEASE);
    if (!lease) return false;
    try {
      // Read under the lease: a list read before it may hold events another process has fanned out
      // since, whose deliveries may be delivered and pruned by now (inserted again, they would be sent again).
      const events = await this.deps.outbox.readyEvents(FANOUT_SLICE);
      const endpoints = await this.deps.endpoints.allForDelivery();
      const deliveries: [string, DeliveryRecord][] = [];
      for (const event of events)
        for (const endpoint of endpoints.filter((e) => subscribed(e, event)))
          deliveries.push([deliveryKey(endpoint.id, event.id), newDelivery(endpoint, event)]);
      // One statement for the slice: a lane in another process reads all of it or none, never a gap.
      await this.deps.deliveries.insertMany(deliveries);
      // A crash before this only makes the next fan-out insert nothing twice.
      await this.deps.outbox.done(...events.map((e) => e.id));
      return events.length === FANOUT_SLICE;
    } finally {
      await lease.release();
    }
  }

  /** Enabled endpoints whose oldest pending delivery is due now (a disabled one's wait until it is enabled again). */
  private async dueEndpoints(): Promise<string[]> {
    const now = this.now();
    const due: string[] = [];
    for (const endpoint of await this.deps.endpoints.allForDelivery()) {
      if (!endpoint.enabled) continue;
      const [head] = await this.deps.deliveries.first(1, { where: PENDING, within: `${endpoint.id}.` });
      if (head && (head.nextAttemptAt ?? 0) <= now) due.push(endpoint.id);
    }
    return due;
  }

  /**
   * One endpoint's pending deliveries, in order, a slice at a time, under its lease, until one fails
   * or none is left (new ones fanned out meanwhile included: the lane goes on while a burst comes in).
   */
  private async lane(endpointId: string): Promise<void> {
    const lease = await this.lease(`webhook:${endpointId}`);
    if (!lease) return;
    try {
      const endpoint = await this.deps.endpoints.forDelivery(endpointId);
      if (!endpoint?.enabled) return;
      const post = await this.deps.endpoints.senderTo(endpoint);
      const deliveries = this.deps.deliveries.fencedBy(lease.fence);
      const within = `${endpointId}.`;
      // The endpoint's delivered records, oldest first: those beyond DELIVERED_KEPT are let go as the lane goes.
      const delivered = (await this.deps.deliveries.first(Number.MAX_SAFE_INTEGER, { where: DELIVERED, within })).map((d) =>
        deliveryKey(d.endpointId, d.eventId),
      );
      // A delivered one's record is written while the next is sent (the store's round trip off the lane's
      // path); it must land before the one after is sent, so a crash sends again at most those two, in order.
      let recording: Promise<void> | undefined;
      try {
        for (;;) {
          const slice = await this.deps.deliveries.first(LANE_SLICE, { where: PENDING, within });
          if (slice.length === 0) return;
          for (const delivery of slice) {
            if (this.stopped) return;
            if ((delivery.nextAttemptAt ?? 0) > this.now()) return; // the head waits for its retry; the rest wait behind it
            const sent = await this.send(endpoint, post, delivery, deliveries);
            await recording; // a lost lease says so here, and stops the lane
            recording = sent.recorded;
            if (!sent.delivered) return;
            delivered.push(deliveryKey(delivery.endpointId, delivery.eventId));
          }
          // The next slice is read once this one's records landed: it must not hold them again.
          await recording;
          recording = undefined;
          await this.prune(delivered, endpointId);
        }
      } finally {
        await recording;
        await this.prune(delivered, endpointId);
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
    post: (message: { id: string; body: string }) => Promise<DeliveryAttempt>,
    delivery: DeliveryRecord,
    deliveries: Collection<DeliveryRecord>,
  ): Promise<{ delivered: boolean; recorded: Promise<void> }> {
    const answer = await post({ id: delivery.eventId, body: delivery.body });
    const { webhookId: _id, ...rest } = answer;
    const attempt: DeliveryAttemptRecord = { at: new Date(this.now()).toISOString(), ...rest };
    const attempts = [...delivery.attempts, attempt].slice(-ATTEMPTS_KEPT);
    const key = deliveryKey(delivery.endpointId, delivery.eventId);
    if (answer.delivered) {
      const { nextAttemptAt: _n, ...done } = delivery;
      const recorded = deliveries.put(key, { ...done, status: 'delivered', failures: 0, attempts });
      // Awaited by the lane after the next POST: marked handled meanwhile, so a failure waits for it there.
      recorded.catch(() => undefined);
      publish('credport:webhook-delivery', () => ({ outcome: 'delivered' }));
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
      publish('credport:webhook-delivery', () => ({ outcome: 'failed' }));
      return { delivered: false, recorded: Promise.resolve() };
    }
    await deliveries.put(key, { ...delivery, failures, attempts, nextAttemptAt: this.now() + wait });
    publish('credport:webhook-delivery', () => ({ outcome: 'retrying' }));
    return { delivered: false, recorded: Promise.resolve() };
  }

  /** Delivered records beyond the newest DELIVERED_KEPT of the endpoint are let go (failed and pending stay). */
  private async prune(delivered: string[], endpointId: string): Promise<void> {
    const beyond = delivered.length - DELIVERED_KEPT;
    if (beyond <= 0) return;
    await this.deps.deliveries.deleteMany(delivered.splice(0, beyond), () => endpointId);
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
