import { randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';
import type { WebhookEventType } from '../generated/webhook-event-type.js';
import type { Collection } from '../store/collection.js';

/**
 * The outbox: every webhook event is written to the store before anything is sent, so an event
 * survives a restart, a crash or an outage of the receiver.
 *
 * The store keeps one key per record and has no transaction over two, so an event and the change
 * that caused it cannot be written in one step. Instead (`during`):
 *  1. an intent is written first, under the event's id: a failure here refuses the change;
 *  2. the change is written, and its record carries a mark naming that id and the event types (in
 *     the same write: the proof that the change landed);
 *  3. the intent becomes the ready event (the types' payloads built from the changed record).
 * A crash between 1 and 3 leaves an intent; `recover` finds it later and looks at the record: marked
 * (or gone, for a delete) means the change landed and the events are made ready; not marked means
 * the change never landed and the intent is dropped. Nothing is lost between the two, and nothing is
 * sent for a change that did not happen.
 */

/** An event as stored: an intent until its change is shown to have landed, then ready for the endpoints. */
export interface OutboxEvent {
  v: 1;
  /** `msg_<ms><random>`: sorts in the order the events were made; the `webhook-id` of every delivery of it. */
  id: string;
  state: 'intent' | 'ready';
  workspace: string;
  /** Set once ready (and at intent for a delete, whose record will not be there to say it). */
  type?: WebhookEventType;
  /** When the event happened (ISO): the payload's `timestamp`. */
  timestamp: string;
  /** The payload's `data`: ids, a tile, never a secret. */
  data?: Record<string, unknown>;
  /** An intent: the record whose mark proves the change, or whose absence proves a delete. */
  subject?: { kind: string; id: string; expect: 'marked' | 'gone' };
  rev?: number;
}

/** What a changed record carries (its `events`): the id of the intent and the types the change makes. */
export interface EventMark {
  id: string;
  types: WebhookEventType[];
}

/** A record's marks are kept to this many: enough for changes in flight at once, and the record stays small. */
const MARKS_KEPT = 8;

/** How to read a subject's record for `recover`: its marks, its workspace, and the payload of each type. */
export interface EventSubject {
  /** The record now, or undefined when it is gone. */
  landed(id: string): Promise<LandedRecord | undefined>;
}

export interface LandedRecord {
  workspace: string;
  marks: readonly EventMark[];
  data(type: WebhookEventType): Record<string, unknown>;
}

/** A record that carries marks. */
export interface Marked {
  events?: EventMark[];
}

/** The mark a change adds to its record: `types` (none: the change makes no event, and the intent is dropped). */
export type Mark = <R extends Marked>(record: R, types: readonly WebhookEventType[]) => R;

export interface OutboxOptions {
  now?: () => Date;
  /** Said when an event becomes ready: a delivery loop in this process looks at once. */
  onReady?: () => void;
  /** An intent younger than this is a change still in flight: recover leaves it (default 60 s). */
  graceMs?: number;
}

export class Outbox {
  private readonly subjects = new Map<string, EventSubject>();

  constructor(
    private readonly events: Collection<OutboxEvent>,
    private readonly options: OutboxOptions = {},
  ) {}

  /** A kind of record (`credential`, `connect`) whose changes make events: recover reads it through this. */
  register(kind: string, subject: EventSubject): void {
    this.subjects.set(kind, subject);
  }

  /** An event that is its own change (a sync's end): written ready, in one step. */
  async publish(workspace: string, type: WebhookEventType, data: Record<string, unknown>): Promise<string> {
    const at = this.now();
    const event: OutboxEvent = { v: 1, id: newEventId(at), state: 'ready', workspace, type, timestamp: at.toISOString(), data };
    await this.insert(event);
    this.options.onReady?.();
    return event.id;
  }

  /**
   * A change that makes events: `change` gets the mark to put on the record it writes, and answers
   * that record as landed (undefined: it wrote nothing). The intent is written first; a change that
   * throws or writes nothing drops it; one that lands makes its marked types ready.
   */
  async during<R>(kind: string, id: string, change: (mark: Mark) => Promise<{ result: R; landed: LandedRecord | undefined }>): Promise<R> {
    const intent = this.intent(kind, id, 'marked');
    await this.insert(intent);
    const mark: Mark = (record, types) => {
      if (types.length === 0) return record;
      const kept = (record.events ?? []).filter((m) => m.id !== intent.id).slice(-(MARKS_KEPT - 1));
      return { ...record, events: [...kept, { id: intent.id, types: [...types] }] };
    };
    let outcome: { result: R; landed: LandedRecord | undefined };
    try {
      outcome = await change(mark);
    } catch (error) {
      await this.dropQuietly(intent.id);
      throw error;
    }
    await this.settle(intent, outcome.landed);
    return outcome.result;
  }

  /**
   * A delete that makes one event: written as an intent with its payload (the record will be gone),
   * made ready once `remove` answers true, dropped when it throws or answers false.
   */
  async deleting(
    kind: string,
    id: string,
    workspace: string,
    type: WebhookEventType,
    data: Record<string, unknown>,
    remove: () => Promise<boolean>,
  ): Promise<boolean> {
    const intent = { ...this.intent(kind, id, 'gone'), workspace, type, data };
    await this.insert(intent);
    let removed: boolean;
    try {
      removed = await remove();
    } catch (error) {
      await this.dropQuietly(intent.id);
      throw error;
    }
    if (removed) await this.ready(intent, [{ ...intent, state: 'ready' }]);
    else await this.dropQuietly(intent.id);
    return removed;
  }

  /**
   * Intents older than the grace period, settled by their records: marked (or gone, for a delete)
   * become ready; not marked are dropped (the change never landed). Answers how many became ready.
   */
  async recover(): Promise<number> {
    const cutoff = this.now().getTime() - (this.options.graceMs ?? 60_000);
    let readied = 0;
    for (const [, event] of await this.events.entries({ field: 'state', equals: 'intent' })) {
      if (event instanceof Error || event.state !== 'intent' || !event.subject) continue;
      if (timeOfId(event.id) > cutoff) continue;
      const subject = this.subjects.get(event.subject.kind);
      if (!subject) continue;
      const landed = await subject.landed(event.subject.id);
      if (event.subject.expect === 'gone') {
        if (landed === undefined) await this.ready(event, [{ ...event, state: 'ready' }]);
        else await this.dropQuietly(event.id);
        readied += landed === undefined ? 1 : 0;
        continue;
      }
      if (landed?.marks.some((m) => m.id === event.id)) readied += await this.settle(event, landed);
      else await this.dropQuietly(event.id);
    }
    return readied;
  }

  /**
   * The ready events, oldest first, up to the oldest intent still in flight: an event made before
   * it, readied after, must not be overtaken by later ones (an intent older than the grace period is
   * recover's to settle, and holds nothing back).
   */
  async readyEvents(limit = 1000): Promise<OutboxEvent[]> {
    const cutoff = this.now().getTime() - (this.options.graceMs ?? 60_000);
    // Intents are few (each lives for a change's milliseconds); the ready ones are read a slice at a time.
    const intents = await this.events.entries({ field: 'state', equals: 'intent' });
    const inFlight = intents.flatMap(([, e]) => (e instanceof Error || e.state !== 'intent' || timeOfId(e.id) <= cutoff ? [] : [e.id]));
    const [before] = inFlight.sort();
    const ready = await this.events.first(limit, { where: { field: 'state', equals: 'ready' } });
    return ready.filter((e) => e.state === 'ready' && (before === undefined || e.id < before));
  }

  /** Ready events not yet fanned out, counted up to `cap` (a metric's scrape: one limited, ordered store scan). */
  async readyCount(cap: number): Promise<number> {
    return (await this.events.first(cap, { where: { field: 'state', equals: 'ready' } })).length;
  }

  /** Events handed to their endpoints' deliveries: the outbox lets go of them. */
  async done(...ids: string[]): Promise<void> {
    await this.events.deleteMany(ids);
  }

  /** The events an intent's change marked, made ready from the record as it landed; answers how many. */
  private async settle(intent: OutboxEvent, landed: LandedRecord | undefined): Promise<number> {
    const types = landed?.marks.find((m) => m.id === intent.id)?.types ?? [];
    if (!landed || types.length === 0) {
      await this.dropQuietly(intent.id);
      return 0;
    }
    const timestamp = this.now().toISOString();
    // The first type takes the intent's id; more (a reconnect that also recovers) take it and one more digit, so sort right after it.
    const events = types.map(
      (type, i): OutboxEvent => ({
        v: 1,
        id: i === 0 ? intent.id : `${intent.id}${i}`,
        state: 'ready',
        workspace: landed.workspace,
        type,
        timestamp,
        data: landed.data(type),
      }),
    );
    await this.ready(intent, events);
    return events.length;
  }

  /** The first event replaces the intent (over its revision); the others are inserted (a second recover inserts nothing twice). */
  private async ready(intent: OutboxEvent, events: OutboxEvent[]): Promise<void> {
    for (const extra of events.slice(1)) await this.events.insert(extra.id, extra);
    const [first] = events;
    const { subject: _s, ...ready } = first!;
    await this.events.swap(intent.id, { ...ready, state: 'ready' }, intent.rev ?? 0);
    this.options.onReady?.();
  }

  private intent(kind: string, id: string, expect: 'marked' | 'gone'): OutboxEvent {
    const at = this.now();
    return { v: 1, id: newEventId(at), state: 'intent', workspace: '', timestamp: at.toISOString(), subject: { kind, id, expect } };
  }

  private async insert(event: OutboxEvent): Promise<void> {
    if (!(await this.events.insert(event.id, event)))
      throw new StoreError('write_conflict', `webhook event ${event.id} exists already: try again`);
  }

  /** Dropping an intent that came to nothing: if the store fails here, recover drops it later (its record is not marked). */
  private async dropQuietly(id: string): Promise<void> {
    await this.events.delete(id).catch(() => undefined);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date(Date.now());
  }
}

/** The last id's time and sequence in this process: ids made in one millisecond still sort in the order they were made. */
const last = { ms: 0, seq: 0 };

/**
 * `msg_` + 13 digits of epoch milliseconds + a 4-digit sequence + 8 random hex digits (the
 * `webhook-id` form, letters and digits only). In one process every id sorts after the one before
 * (the clock stepping back, or 10,000 in a millisecond, moves the time on instead); across
 * processes, by time. A change's second event takes its first's id and one more digit: right after it.
 */
export function newEventId(at: Date): string {
  const ms = Math.max(at.getTime(), last.ms);
  if (ms === last.ms) last.seq++;
  else Object.assign(last, { ms, seq: 0 });
  if (last.seq > 9999) Object.assign(last, { ms: last.ms + 1, seq: 0 });
  return `msg_${String(last.ms).padStart(13, '0')}${String(last.seq).padStart(4, '0')}${randomBytes(4).toString('hex')}`;
}

/** The time an event id was made (epoch ms); NaN for an id not of that form. */
export function timeOfId(id: string): number {
  const match = /^msg_(\d{13})\d{4}[0-9a-f]{8}/.exec(id);
  return match ? Number(match[1]) : Number.NaN;
}
