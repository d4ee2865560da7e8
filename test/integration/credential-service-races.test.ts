// The credential service's edges that need a store misbehaving on cue: lost races, a store that
// fails mid-change, records deleted or written at the same instant. The store is real (SQLite);
// only the moment a write loses is chosen by the test.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { CredentialService } from '../../src/credentials/credential-service.js';
import { InputError, NotFoundError, StoreError } from '../../src/errors.js';
import { loadRegistry } from '../../src/open-credport.js';
import { CredentialRecords } from '../../src/store/credential-records.js';
import { loadMasterKey } from '../../src/keys/master-key.js';
import { openKeyv, type OpenedKeyv } from '../../src/store/open-keyv.js';
import { Sealer } from '../../src/keys/sealer.js';
import { fixedKeys } from '../../src/keys/key-state.js';
import { FakeFront } from '../helpers/fake-front.js';
import { fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';

let home: string;
let opened: OpenedKeyv;
let records: CredentialRecords;
let service: CredentialService;
const at = new Date('2026-11-26T12:00:00.000Z');

beforeEach(async () => {
  home = await tempHome();
  opened = await openKeyv(`sqlite://${join(home, 'store.sqlite')}`);
  records = new CredentialRecords(opened);
  const sealer = new Sealer(await loadMasterKey({ envValue: randomMasterKey(), keyFile: join(home, 'master.key') }));
  // One instant for every write: the listing order must then come from the ids.
  service = new CredentialService({ registry: await loadRegistry({ env: {} }), records, keys: fixedKeys(sealer), now: () => at });
});
afterEach(async () => {
  jest.restoreAllMocks();
  await opened.close();
  await removeHome(home);
});

const add = (name: string) => service.create({ connector: 'front', values: { name, apiKey: fakeToken() }, verify: false });

describe('a change that keeps losing its race', () => {
  it('is refused with write_conflict after 20 lost races, naming the credential, and writes nothing', async () => {
    const tile = await add('Support');
    const swap = jest.spyOn(records, 'swap').mockResolvedValue(false); // another writer wins every time
    const error = await service.update(tile.id, { name: 'Renamed' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'write_conflict', exitCode: 5 });
    expect((error as Error).message).toBe(
      `credential ${tile.id} was changed by others 20 times while this change was being saved; nothing was saved by this one: try again`,
    );
    expect(swap).toHaveBeenCalledTimes(20);
    swap.mockRestore();
    expect((await service.show(tile.id)).name).toBe('Support');
  });

  it('is made again on what the winner saved: a rename that lost once keeps the description written meanwhile', async () => {
    const tile = await add('Support');
    const realSwap = records.swap.bind(records);
    let raced = false;
    jest.spyOn(records, 'swap').mockImplementation(async (id, next, rev) => {
      if (!raced) {
        raced = true; // another process updates the description between this change's read and its write
        const now = (await records.get(id))!;
        await realSwap(id, { ...now, description: 'written meanwhile', rev: (now.rev ?? 0) + 1 }, now.rev ?? 0);
      }
      return realSwap(id, next, rev);
    });
    const renamed = await service.update(tile.id, { name: 'Renamed' });
    expect(renamed).toMatchObject({ name: 'Renamed', description: 'written meanwhile', revision: 2 });
  });
});

describe('a store that fails, or a record deleted, during a change', () => {
  it('markInvalid passes a store failure on (a sync must not report a tile marked that was not), and ignores a deleted credential', async () => {
    const tile = await add('Support');
    jest
      .spyOn(records, 'get')
      .mockRejectedValueOnce(new StoreError('store_unavailable', 'the store at sqlite://… cannot be used: disk I/O error'));
    await expect(service.markInvalid(tile.id)).rejects.toMatchObject({ code: 'store_unavailable' });
    expect((await service.show(tile.id)).status).toBe('unverified');
    await service.delete(tile.id);
    await expect(service.markInvalid(tile.id)).resolves.toBeUndefined();
  });

  it('a rotate whose credential was deleted while the provider verified the new secret says so, and brings nothing back', async () => {
    const front = await FakeFront.start();
    try {
      const oldToken = fakeToken('old');
      const newToken = fakeToken('new');
      front.allow(oldToken);
      front.allow(newToken);
      const tile = await service.create({ connector: 'front', values: { name: 'Support', apiKey: oldToken }, baseUrl: front.url });
      front.mode = 'slow';
      const rotating = service.rotate(tile.id, { secrets: { apiKey: newToken } }).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await service.delete(tile.id);
      const error = await rotating;
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as Error).message).toBe(`credential ${tile.id} was deleted while it was being rotated`);
      await expect(service.list()).resolves.toEqual([]);
    } finally {
      await front.close();
    }
  });

  it('a test whose credential was deleted while the provider answered says so', async () => {
    const front = await FakeFront.start();
    try {
      const token = fakeToken('t');
      front.allow(token);
      const tile = await service.create({
        connector: 'front',
        values: { name: 'Support', apiKey: token },
        baseUrl: front.url,
        verify: false,
      });
      const answer = front.hold();
      const testing = service.test(tile.id).catch((e: unknown) => e);
      await answer.requested;
      await service.delete(tile.id);
      answer.release();
      expect(await testing).toMatchObject({ code: 'not_found', message: `credential ${tile.id} was deleted while it was being tested` });
    } finally {
      await front.close();
    }
  });

  it("a test's answer lands on the secret it asked about: re-sealed meanwhile it still counts, rotated meanwhile it does not", async () => {
    const front = await FakeFront.start();
    const events: { action: string }[] = [];
    const audited = new CredentialService({
      ...(service as unknown as { deps: ConstructorParameters<typeof CredentialService>[0] }).deps,
      audit: { note: async (e: { action: string }) => void events.push(e) } as never,
    });
    try {
      const token = fakeToken('t');
      front.allow(token);
      const tile = await audited.create({
        connector: 'front',
        values: { name: 'Support', apiKey: token },
        baseUrl: front.url,
        verify: false,
      });
      // Re-sealed (a new IV: another ciphertext, the same secret) while the provider answers.
      let answer = front.hold();
      let testing = audited.test(tile.id);
      await answer.requested;
      const now = (await records.get(tile.id))!;
      const sealer = (service as unknown as { deps: { keys: { current: Sealer } } }).deps.keys.current;
      const { associatedData } = await import('../../src/credentials/credential-record.js');
      await records.swap(
        tile.id,
        { ...now, sealed: sealer.seal(JSON.stringify({ apiKey: token }), associatedData(now)), rev: (now.rev ?? 0) + 1 },
        now.rev ?? 0,
      );
      answer.release();
      expect(await testing).toMatchObject({ status: 'verified' });
      expect(events.filter((e) => e.action === 'credential.verified')).toHaveLength(1);
      // Rotated (unverified) while the provider answers about the old secret: that answer is not the new one's.
      answer = front.hold();
      testing = audited.test(tile.id);
      await answer.requested;
      await audited.rotate(tile.id, { secrets: { apiKey: fakeToken('new') }, verify: false });
      answer.release();
      await testing;
      expect(await audited.show(tile.id)).toMatchObject({ status: 'unverified' });
      expect(events.filter((e) => e.action === 'credential.verified')).toHaveLength(1);
    } finally {
      await front.close();
    }
  });

  it('a delete that finds the record gone at the last step says there is none; a store failure on reading it is passed on', async () => {
    const tile = await add('Support');
    jest.spyOn(records, 'delete').mockResolvedValueOnce(false); // deleted by another process after it was read
    await expect(service.delete(tile.id)).rejects.toThrow(new NotFoundError(`no credential ${tile.id}`));
    jest.spyOn(records, 'get').mockRejectedValueOnce(new StoreError('store_unavailable', 'disk I/O error'));
    await expect(service.delete(tile.id)).rejects.toMatchObject({ code: 'store_unavailable' });
    expect((await service.show(tile.id)).id).toBe(tile.id);
  });

  it('an update of a credential that is not there says there is none', async () => {
    const tile = await add('Support');
    await service.delete(tile.id);
    await expect(service.update(tile.id, { name: 'x' })).rejects.toThrow(new NotFoundError(`no credential ${tile.id}`));
  });
});

describe('ordering and input shapes', () => {
  it('lists tiles created in the same instant by id, whatever order the store returns them in', async () => {
    const ids = [(await add('A')).id, (await add('B')).id, (await add('C')).id, (await add('D')).id];
    const all = jest.spyOn(records, 'all');
    for (const order of [ids, [...ids].reverse(), [ids[2], ids[0], ids[3], ids[1]]]) {
      const stored = await Promise.all(order.map(async (id) => (await records.get(id!))!));
      all.mockResolvedValueOnce(stored);
      expect((await service.list()).map((t) => t.id)).toEqual([...ids].sort());
    }
  });

  it('names what is wrong with input that is not even the right shape', async () => {
    await expect(service.create({ values: { name: 'x' } } as never)).rejects.toThrow(
      new InputError('connector is required', { field: 'connector' }),
    );
    await expect(service.create({ values: { name: 'x' } } as never)).rejects.toMatchObject({ field: 'connector' });
    await expect(service.create(null as never)).rejects.toThrow('create input must be an object');
    await expect(service.update('cred_0123456789abcdef', 'x' as never)).rejects.toThrow('update input must be an object');
    await expect(service.show('not-an-id')).rejects.toThrow('"not-an-id" is not a credential id (they look like cred_0123456789abcdef)');
    const tile = await add('Support');
    await expect(service.update(tile.id, { name: 'x', color: 'red' } as never)).rejects.toMatchObject({
      field: 'color',
      message: 'update input has an unknown field "color" (allowed: name, description)',
    });
    await expect(service.rotate(tile.id, { secrets: { apiKey: fakeToken() }, force: true } as never)).rejects.toMatchObject({
      field: 'force',
      message: 'rotate input has an unknown field "force" (allowed: secrets, verify)',
    });
    await expect(service.rotate(tile.id, { secrets: { token: 'x' } } as never)).rejects.toMatchObject({
      field: 'token',
      message: 'rotate secrets has an unknown field "token" (allowed: apiKey)',
    });
  });
});
