import { describe, expect, it } from '@jest/globals';
import Keyv from 'keyv';
import type { StoreAccess } from '../../src/store/backend.js';
import { Collection } from '../../src/store/collection.js';
import { type EventMark, type LandedRecord, type Marked, Outbox, type OutboxEvent, timeOfId } from '../../src/webhooks/outbox.js';

// The outbox's contract (src/webhooks/outbox.ts) on a plain keyv: an intent before the change, the
// change's record marked, ready events after; a change that fails or writes nothing leaves nothing;
// recover settles what a crash left by looking at the records.

interface Thing extends Marked {
  id: string;
  workspace: string;
  name: string;
}

// Each test's clock starts an hour after the last one's: ids made in this process never go back in time.
let start = Date.parse('2026-12-07T12:00:00.000Z');

function setup() {
  start += 3_600_000;
  const clock = { ms: start };
  const access: StoreAccess = { keyv: new Keyv(), shown: 'memory://test' };
  const events = new Collection<OutboxEvent>(access, 'webhook-event:', (value) => value as OutboxEvent);
  const things = new Map<string, Thing>();
  let readied = 0;
  const outbox = new Outbox(events, { now: () => new Date(clock.ms), onReady: () => void readied++ });
  const landed = (thing: Thing): LandedRecord => ({
    workspace: thing.workspace,
    marks: thing.events ?? [],
    data: (type) => ({ workspace: thing.workspace, thing: { id: thing.id, name: thing.name }, type }),
  });
  outbox.register('thing', { landed: async (id) => (things.has(id) ? landed(things.get(id)!) : undefined) });
  const all = async () => (await events.entries()).map(([, e]) => e as OutboxEvent);
  return { outbox, events, things, landed, clock, all, readied: () => readied };
}

const thing = (id: string, name = 'One'): Thing => ({ id, workspace: 'acme', name });
/** An event id of the outbox's form made at `ms` (as another process would): `msg_` + 13 digits of time + 4 of sequence + 8 hex. */
const idAt = (ms: number, n: number) => `msg_${String(ms).padStart(13, '0')}0000${String(n).padStart(8, '0')}`;

describe('publish', () => {
  it('writes an event ready at once, and readyEvents answers them oldest first whatever order they were written in', async () => {
    const { outbox, events, clock, readied } = setup();
    const earlier = await outbox.publish('acme', 'sync.succeeded', { workspace: 'acme' });
    clock.ms += 1000;
    const later = await outbox.publish('acme', 'sync.failed', { workspace: 'acme' });
    expect(timeOfId(earlier)).toBeLessThan(timeOfId(later));
    // Another process's event, made before both and written after them.
    const other = idAt(clock.ms - 5000, 1);
    await events.insert(other, { v: 1, id: other, state: 'ready', workspace: 'acme', type: 'credential.created', timestamp: '', data: {} });
    const ready = await outbox.readyEvents();
    expect(ready.map((e) => [e.id, e.type, e.state])).toEqual([
      [other, 'credential.created', 'ready'],
      [earlier, 'sync.succeeded', 'ready'],
      [later, 'sync.failed', 'ready'],
    ]);
    expect(ready[2]).toMatchObject({ workspace: 'acme', timestamp: new Date(clock.ms).toISOString(), data: { workspace: 'acme' } });
    expect(readied()).toBe(2);
  });
});

describe('during', () => {
  it('writes the intent before the change, marks the written record, and makes each marked type ready in order', async () => {
    const { outbox, things, landed, all } = setup();
    let seenInside: OutboxEvent[] = [];
    const result = await outbox.during('thing', 't1', async (mark) => {
      seenInside = await all();
      const written = mark(thing('t1'), ['credential.verified', 'credential.recovered']);
      things.set('t1', written);
      return { result: 'ok', landed: landed(written) };
    });
    expect(result).toBe('ok');
    expect(seenInside).toHaveLength(1);
    expect(seenInside[0]).toMatchObject({ state: 'intent', subject: { kind: 'thing', id: 't1', expect: 'marked' } });
    const intentId = seenInside[0]!.id;
    expect(things.get('t1')!.events).toEqual([{ id: intentId, types: ['credential.verified', 'credential.recovered'] }]);
    const ready = await outbox.readyEvents();
    expect(ready.map((e) => [e.id, e.type])).toEqual([
      [intentId, 'credential.verified'],
      [`${intentId}1`, 'credential.recovered'],
    ]);
    expect(ready[0]!.data).toEqual({ workspace: 'acme', thing: { id: 't1', name: 'One' }, type: 'credential.verified' });
    expect(ready[0]).not.toHaveProperty('subject');
    expect(await all()).toHaveLength(2); // no intent left behind
  });

  it('drops the intent when the change throws, and lets the error through', async () => {
    const { outbox, all } = setup();
    const error = await outbox
      .during('thing', 't1', async () => {
        throw new Error('refused');
      })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('refused');
    expect(await all()).toEqual([]);
  });

  it('drops the intent when the change wrote nothing, or marked no type', async () => {
    const { outbox, things, landed, all } = setup();
    await outbox.during('thing', 't1', async () => ({ result: undefined, landed: undefined }));
    await outbox.during('thing', 't2', async (mark) => {
      const written = mark(thing('t2'), []);
      things.set('t2', written);
      return { result: undefined, landed: landed(written) };
    });
    expect(things.get('t2')!.events).toBeUndefined();
    expect(await all()).toEqual([]);
  });

  it('keeps a record to 8 marks, and a mark made again on a retried decide step replaces its own', async () => {
    const { outbox, things, landed } = setup();
    things.set('t1', thing('t1'));
    for (let i = 0; i < 10; i++)
      await outbox.during('thing', 't1', async (mark) => {
        const first = mark(things.get('t1')!, ['credential.rotated']); // a try that lost its race
        const written = mark({ ...first }, ['credential.rotated']);
        things.set('t1', written);
        return { result: undefined, landed: landed(written) };
      });
    const marks: EventMark[] = things.get('t1')!.events!;
    expect(marks).toHaveLength(8);
    expect(new Set(marks.map((m) => m.id)).size).toBe(8);
    expect(await outbox.readyEvents()).toHaveLength(10);
  });
});

describe('deleting', () => {
  it('makes the event ready once the record is removed; drops it when nothing was removed or the remove throws', async () => {
    const { outbox, all } = setup();
    expect(await outbox.deleting('thing', 't1', 'acme', 'credential.deleted', { workspace: 'acme' }, async () => true)).toBe(true);
    expect(await outbox.deleting('thing', 't2', 'acme', 'credential.deleted', { workspace: 'acme' }, async () => false)).toBe(false);
    const error = await outbox
      .deleting('thing', 't3', 'acme', 'credential.deleted', {}, async () => {
        throw new Error('store down');
      })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('store down');
    const left = await all();
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ state: 'ready', type: 'credential.deleted', workspace: 'acme', data: { workspace: 'acme' } });
    expect(left[0]).not.toHaveProperty('subject');
  });
});

describe('recover', () => {
  /** A change whose ready step fails once (a crash between the change and the ready write). */
  async function crashAfterChange(
    setupOf: ReturnType<typeof setup>,
    change: (mark: Parameters<Parameters<Outbox['during']>[2]>[0]) => Promise<LandedRecord | undefined>,
  ) {
    const { outbox, events } = setupOf;
    const realSwap = events.swap.bind(events);
    let failed = false;
    events.swap = async (...args) => {
      if (failed) return realSwap(...args);
      failed = true;
      throw new Error('crash');
    };
    await outbox.during('thing', 't1', async (mark) => ({ result: undefined, landed: await change(mark) })).catch(() => undefined);
    events.swap = realSwap;
  }

  it('after the grace period, makes a marked change ready, drops an unmarked one, readies a delete whose record is gone', async () => {
    const s = setup();
    const { outbox, things, landed, clock, all } = s;
    await crashAfterChange(s, async (mark) => {
      const written = mark(thing('t1', 'Landed'), ['credential.created']);
      things.set('t1', written);
      return landed(written);
    });
    // Written by hand: an intent whose change never landed (its record has no mark), and a delete's.
    clock.ms += 1;
    const lost: OutboxEvent = {
      v: 1,
      id: idAt(clock.ms, 2),
      state: 'intent',
      workspace: '',
      timestamp: new Date(clock.ms).toISOString(),
      subject: { kind: 'thing', id: 't2', expect: 'marked' },
    };
    things.set('t2', thing('t2'));
    const gone: OutboxEvent = {
      v: 1,
      id: idAt(clock.ms, 3),
      state: 'intent',
      workspace: 'acme',
      type: 'credential.deleted',
      timestamp: new Date(clock.ms).toISOString(),
      data: { workspace: 'acme' },
      subject: { kind: 'thing', id: 't3', expect: 'gone' },
    };
    await s.events.insert(lost.id, lost);
    await s.events.insert(gone.id, gone);
    expect((await all()).filter((e) => e.state === 'intent')).toHaveLength(3);

    // Within the grace period the changes may still be in flight: left alone.
    expect(await outbox.recover()).toBe(0);
    expect((await all()).filter((e) => e.state === 'intent')).toHaveLength(3);

    clock.ms += 60_001;
    expect(await outbox.recover()).toBe(2);
    const left = await all();
    expect(left.every((e) => e.state === 'ready')).toBe(true);
    expect((await outbox.readyEvents()).map((e) => [e.type, e.data])).toEqual([
      ['credential.created', { workspace: 'acme', thing: { id: 't1', name: 'Landed' }, type: 'credential.created' }],
      ['credential.deleted', { workspace: 'acme' }],
    ]);
    expect(await outbox.recover()).toBe(0); // settled once
  });

  it('leaves an intent of a kind nobody registered, and drops a delete whose record is still there', async () => {
    const s = setup();
    const { outbox, things, clock, all } = s;
    for (const [id, kind, expect_] of [
      [idAt(1, 1), 'unknown', 'marked'],
      [idAt(1, 2), 'thing', 'gone'],
    ] as const)
      await s.events.insert(id, {
        v: 1,
        id,
        state: 'intent',
        workspace: 'acme',
        timestamp: new Date(1).toISOString(),
        subject: { kind, id: 'kept', expect: expect_ },
      });
    things.set('kept', thing('kept'));
    clock.ms += 1;
    expect(await outbox.recover()).toBe(0);
    expect((await all()).map((e) => e.subject?.kind)).toEqual(['unknown']);
  });
});
