import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { InputError, StoreError } from '../../src/errors.js';
import { Collection } from '../../src/store/collection.js';
import { openKeyv, type OpenedKeyv } from '../../src/store/open-keyv.js';
import { acquireLease, LEASE_PREFIX, type LeaseRecord } from '../../src/sync/destination-lease.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';
import { STORE_KIND, testStoreUri } from '../helpers/test-store.js';

let home: string;
let opened: OpenedKeyv;
let leases: Collection<LeaseRecord>;
let state: Collection<{ page: number }>;
beforeEach(async () => {
  home = await tempHome();
  opened = await openKeyv((await testStoreUri()) ?? `sqlite://${home}/store.sqlite`);
  leases = new Collection<LeaseRecord>(opened, LEASE_PREFIX, (v) => v as LeaseRecord);
  state = new Collection<{ page: number }>(opened, 'sync:', (v) => v as { page: number });
});
afterEach(async () => {
  await opened.close();
  await removeHome(home);
});

const later = (ms: number) => () => Date.now() + ms;

describe(`a destination's lease on ${STORE_KIND}`, () => {
  it('is held by one sync at a time; the second is refused by name, and takes it once it is released', async () => {
    const first = await acquireLease(leases, 'dest_a');
    const refused = await acquireLease(leases, 'dest_a').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InputError);
    expect(refused).toMatchObject({ code: 'destination_busy', exitCode: 2 });
    expect((refused as Error).message).toContain(`destination dest_a is being written by another sync (process ${process.pid} on `);
    expect(await acquireLease(leases, 'dest_b')).toMatchObject({ token: 1 }); // another destination is free
    await first.release();
    const second = await acquireLease(leases, 'dest_a');
    expect(second.token).toBe(first.token + 1);
    await second.release();
  });

  it("that its own sync could not free (the store was down when it ended) is taken over at once by this process's next sync", async () => {
    // The store as that sync's end saw it: every write refused.
    let down = false;
    const flaky = new Proxy(leases, {
      get(target, prop) {
        if (prop === 'swap' && down) return async () => Promise.reject(new StoreError('store_unavailable', 'the store cannot be reached'));
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const ended = await acquireLease(flaky, 'dest_a', { ttlMs: 60_000 });
    down = true;
    await ended.release(); // says nothing: the sync's own error is the one to report
    down = false;
    expect((await leases.get('dest_a'))?.holder).toBeDefined(); // still recorded as held, for a minute
    const retry = await acquireLease(flaky, 'dest_a', { ttlMs: 60_000 });
    expect(retry.token).toBe(ended.token + 1);
    // The holder let go of is not writing any more; if it were, its fence would stop it.
    expect(
      await state
        .fencedBy(ended.fence)
        .put('run', { page: 9 })
        .catch((e: unknown) => e),
    ).toMatchObject({ code: 'lease_lost' });
    // A lease this process still holds is refused as before.
    expect(await acquireLease(leases, 'dest_a').catch((e: unknown) => e)).toMatchObject({ code: 'destination_busy' });
    await retry.release();
  });

  it('is taken over after it expires, with a higher token, and the old holder can no longer write', async () => {
    const stalled = await acquireLease(leases, 'dest_a', { ttlMs: 60_000 });
    await state.fencedBy(stalled.fence).put('run', { page: 1 });
    // Another machine, whose clock is past the expiry: the stalled holder has not renewed in time.
    const taker = await acquireLease(leases, 'dest_a', { now: later(120_000) });
    expect(taker.token).toBe(stalled.token + 1);

    const error = await state
      .fencedBy(stalled.fence)
      .put('run', { page: 2 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'lease_lost', exitCode: 5 });
    expect((error as Error).message).toBe(
      `this sync lost destination dest_a to another one (its lease ran out while this process was stalled, token ${stalled.token} is no longer current); it stopped without writing more: the other run carries on from the last checkpoint`,
    );
    expect(await state.get('run')).toEqual({ page: 1 }); // nothing written after the loss

    await state.fencedBy(taker.fence).put('run', { page: 3 });
    expect(await state.get('run')).toEqual({ page: 3 });
    await stalled.release(); // a late release does not free the taker's lease
    expect(await acquireLease(leases, 'dest_a').catch((e: unknown) => e)).toMatchObject({ code: 'destination_busy' });
    await taker.release();
  });

  it('is renewed while held: it does not expire under a running sync', async () => {
    const held = await acquireLease(leases, 'dest_a', { ttlMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(await acquireLease(leases, 'dest_a').catch((e: unknown) => e)).toMatchObject({ code: 'destination_busy' });
    await state.fencedBy(held.fence).put('run', { page: 1 });
    await held.release();
  });

  it('is taken over at once from a process on this machine that is gone (kill -9, then a rerun)', async () => {
    await leases.insert('dest_a', {
      destination: 'dest_a',
      token: 7,
      holder: { host: (await import('node:os')).hostname(), pid: 2 ** 22 + 1, id: 'x' },
      expiresAt: Date.now() + 60_000,
    });
    const lease = await acquireLease(leases, 'dest_a');
    expect(lease.token).toBe(8);
    // Taken over, it is held for a full term like any other.
    expect(await acquireLease(leases, 'dest_a', { now: later(20_000) }).catch((e: unknown) => e)).toMatchObject({
      code: 'destination_busy',
    });
    await lease.release();
  });

  it('is not taken over early from a live process on this machine', async () => {
    await leases.insert('dest_a', {
      destination: 'dest_a',
      token: 5,
      holder: { host: (await import('node:os')).hostname(), pid: process.ppid, id: 'x' },
      expiresAt: Date.now() + 60_000,
    });
    await expect(acquireLease(leases, 'dest_a')).rejects.toMatchObject({
      code: 'destination_busy',
      message: expect.stringContaining(`process ${process.ppid} on `),
    });
  });

  it('is not taken over early from a live process on another machine', async () => {
    await leases.insert('dest_a', {
      destination: 'dest_a',
      token: 3,
      holder: { host: 'worker-elsewhere', pid: 2 ** 22 + 1, id: 'x' },
      expiresAt: Date.now() + 60_000,
    });
    const refused = await acquireLease(leases, 'dest_a').catch((e: unknown) => e);
    expect((refused as Error).message).toContain(`process ${2 ** 22 + 1} on worker-elsewhere`);
    expect((await acquireLease(leases, 'dest_a', { now: later(61_000) })).token).toBe(4);
  });

  it('a holder whose renewal finds the lease taken over stops renewing, and its next write says the lease ran out', async () => {
    const held = await acquireLease(leases, 'dest_a', { ttlMs: 150 });
    // Taken over behind its back (a clock far ahead), before its first renewal at 50 ms.
    const taker = await acquireLease(leases, 'dest_a', { now: later(60_000) });
    // The next renewal finds it gone (within a few of its 50 ms ticks, however loaded the machine).
    const lostFor = async () =>
      (
        (await state
          .fencedBy(held.fence)
          .put('run', { page: 2 })
          .catch((e: unknown) => e)) as Error
      ).message;
    let message = await lostFor();
    for (let i = 0; i < 100 && message.includes('while this process was stalled'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      message = await lostFor();
    }
    expect(message).toBe(
      `this sync lost destination dest_a to another one (its lease ran out, token ${held.token} is no longer current); it stopped without writing more: the other run carries on from the last checkpoint`,
    );
    await held.release(); // lost: releasing changes nothing
    expect((await leases.get('dest_a'))!.token).toBe(taker.token);
    expect((await leases.get('dest_a'))!.holder).toBeDefined();
    await taker.release();
    expect(await leases.get('dest_a')).toMatchObject({ token: taker.token, expiresAt: 0 });
    expect((await leases.get('dest_a'))!.holder).toBeUndefined();
  });

  it('is given up after ten tries when other syncs keep taking it first', async () => {
    let tries = 0;
    const racing = new Collection<LeaseRecord>(opened, LEASE_PREFIX, (v) => v as LeaseRecord);
    racing.get = async () => undefined;
    racing.insert = async () => {
      tries++;
      return false;
    };
    await expect(acquireLease(racing, 'dest_a')).rejects.toMatchObject({
      code: 'destination_busy',
      message: 'destination dest_a could not be leased: other syncs kept taking it',
    });
    expect(tries).toBe(10);
  });

  it('a renewal that lost only to its own earlier renewal keeps the lease', async () => {
    const held = await acquireLease(leases, 'dest_a', { ttlMs: 1500 });
    // Bump the record's revision as an unseen renewal of the same holder would.
    const now = (await leases.get('dest_a'))!;
    const bumped = (now.rev ?? 0) + 1;
    await leases.swap('dest_a', { ...now, rev: bumped }, now.rev ?? 0);
    // The next renewal (every 500 ms) loses its swap, finds the record still its own, and renews on top of it.
    let record = (await leases.get('dest_a'))!;
    for (let i = 0; i < 100 && (record.rev ?? 0) <= bumped; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      record = (await leases.get('dest_a'))!;
    }
    for (let i = 0; i < 100 && (record.rev ?? 0) <= bumped + 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      record = (await leases.get('dest_a'))!;
    }
    expect(record.rev).toBeGreaterThan(bumped + 1);
    await state.fencedBy(held.fence).put('run', { page: 1 }); // still held
    await held.release();
  });
});
