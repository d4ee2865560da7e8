import { describe, expect, it, jest } from '@jest/globals';
import Keyv from 'keyv';
import { StoreError } from '../../src/errors.js';
import { Collection, damaged, readModifySwap, type SwapSteps } from '../../src/store/collection.js';
import { matches, type GroupIndex, type StoreAccess } from '../../src/store/backend.js';

// A plain keyv (no backend query, no server-side compare-and-set) is what a host's in-memory store
// and the unit tests give: the collection must keep every promise it keeps on SQLite by itself.

interface Tile {
  name: string;
  kind?: string;
  rev?: number;
  owner?: { team?: string };
}

const check = (value: unknown, id: string): Tile => {
  if (value === null || typeof value !== 'object' || typeof (value as Tile).name !== 'string')
    throw damaged('tile', id, 'no name', 'delete it');
  return value as Tile;
};

function plain(keyv = new Keyv(), extra: Partial<StoreAccess> = {}) {
  const access: StoreAccess = { keyv, shown: 'memory://test', ...extra };
  return { keyv, access, tiles: new Collection<Tile>(access, 'tile:', check, 'kind') };
}

describe('a collection on a plain keyv', () => {
  it('inserts a record only once', async () => {
    const { keyv, tiles } = plain();
    expect(await tiles.insert('a', { name: 'first' })).toBe(true);
    expect(await tiles.insert('a', { name: 'second' })).toBe(false);
    expect(await keyv.get('tile:a')).toEqual({ name: 'first' });
    expect(await keyv.get('a')).toBeUndefined();
  });

  it('swaps a record only at the revision it was read at (a record without one is at 0)', async () => {
    const { keyv, tiles } = plain();
    expect(await tiles.swap('missing', { name: 'x', rev: 1 }, 0)).toBe(false);
    expect(await keyv.get('tile:missing')).toBeUndefined();
    await tiles.put('a', { name: 'v0' });
    expect(await tiles.swap('a', { name: 'v1', rev: 1 }, 1)).toBe(false);
    expect(await tiles.get('a')).toEqual({ name: 'v0' });
    expect(await tiles.swap('a', { name: 'v1', rev: 1 }, 0)).toBe(true);
    expect(await tiles.get('a')).toEqual({ name: 'v1', rev: 1 });
    expect(
      await tiles.swapMany([
        { id: 'a', value: { name: 'v2', rev: 2 }, expected: 1 },
        { id: 'a', value: { name: 'stale', rev: 2 }, expected: 0 },
      ]),
    ).toEqual([true, false]);
    expect(await tiles.get('a')).toEqual({ name: 'v2', rev: 2 });
  });

  it('writes through a fence only while the lease holds its token, and says so when it is lost', async () => {
    const { keyv, tiles } = plain();
    await keyv.set('lease:d', { token: 7 });
    const fenced = tiles.fencedBy({ key: 'lease:d', token: 7, lost: () => 'lease on d taken over' });
    await fenced.put('a', { name: 'held' });
    expect(await keyv.get('tile:a')).toEqual({ name: 'held' });
    await keyv.set('lease:d', { token: 8 });
    const error = await fenced.put('a', { name: 'late' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'lease_lost', message: 'lease on d taken over' });
    expect(await keyv.get('tile:a')).toEqual({ name: 'held' });
    await keyv.delete('lease:d');
    await expect(fenced.put('b', { name: 'no lease' })).rejects.toMatchObject({ code: 'lease_lost' });
    expect(await keyv.get('tile:b')).toBeUndefined();
  });

  it('lists and filters only its own prefix, nested fields and "not" included, damaged records named', async () => {
    const { keyv, tiles } = plain();
    await tiles.put('a', { name: 'A', kind: 'front', owner: { team: 'x' } });
    await tiles.put('b', { name: 'B', kind: 'frontegg', owner: { team: 'y' } });
    await keyv.set('other:c', { not: 'a tile' });
    expect((await tiles.all()).map((t) => t.name).sort()).toEqual(['A', 'B']);
    expect((await tiles.where('kind', 'front')).map((t) => t.name)).toEqual(['A']);
    expect((await tiles.entries({ field: 'owner.team', equals: 'y' })).map(([id]) => id)).toEqual(['b']);
    expect((await tiles.entries({ field: 'owner.team', equals: 'y', not: true })).map(([id]) => id)).toEqual(['a']);
    await expect(tiles.entries({ field: 'kind) OR 1=1 --', equals: 'x' })).rejects.toThrow('not a field name: kind) OR 1=1 --');

    await keyv.set('tile:broken', { damaged: 'not valid JSON' });
    const entries = await tiles.entries({ field: 'kind', equals: 'front' });
    expect(entries.map(([id]) => id).sort()).toEqual(['a', 'broken']);
    const broken = entries.find(([id]) => id === 'broken')![1];
    expect(broken).toBeInstanceOf(StoreError);
    expect((broken as StoreError).message).toBe('tile broken in the store is damaged: no name; delete it');
    await expect(tiles.all()).rejects.toMatchObject({
      code: 'corrupt_record',
      message: 'tile broken in the store is damaged: no name; delete it',
    });
  });

  it('turns a failing keyv into the store error that names the store, and passes its own errors on as they are', async () => {
    const keyv = new Keyv();
    const { tiles } = plain(keyv);
    keyv.get = (async () => {
      throw new Error('socket closed');
    }) as never;
    await expect(tiles.get('a')).rejects.toMatchObject({
      code: 'store_unavailable',
      message: 'store memory://test cannot be used: socket closed',
    });
    keyv.get = (async () => {
      throw new StoreError('wrong_master_key', 'as it was');
    }) as never;
    await expect(tiles.get('a')).rejects.toMatchObject({ code: 'wrong_master_key', message: 'as it was' });

    keyv.iterator = async function* () {
      yield ['tile:a', { name: 'A' }];
      throw new Error('cursor lost');
    } as never;
    await expect(tiles.all()).rejects.toMatchObject({
      code: 'store_unavailable',
      message: 'store memory://test cannot be used: cursor lost',
    });
    keyv.iterator = undefined as never;
    await expect(tiles.all()).rejects.toMatchObject({ code: 'store_unavailable', message: 'store memory://test cannot list its records' });
  });

  it("keeps the group index of a backend that has one, by the record's group field", async () => {
    const calls: string[] = [];
    const groups: GroupIndex = {
      add: async (prefix, field, value, id) => void calls.push(`add ${prefix} ${field}=${value} ${id}`),
      remove: async (prefix, field, value, id) => void calls.push(`remove ${prefix} ${field}=${value} ${id}`),
    };
    const { tiles } = plain(new Keyv(), { groups });
    await tiles.put('a', { name: 'A', kind: 'front' });
    await tiles.put('b', { name: 'B' });
    expect(await tiles.delete('a')).toBe(true);
    expect(await tiles.delete('b')).toBe(true);
    expect(await tiles.delete('gone')).toBe(false);
    expect(calls).toEqual(['add tile: kind=front a', 'remove tile: kind=front a']);
  });
});

describe('the filter a backend without queries applies', () => {
  const where = { field: 'owner.team', equals: 'x' };
  it.each([
    ['an equal nested field', { owner: { team: 'x' } }, true],
    ['another value', { owner: { team: 'y' } }, false],
    ['a missing parent', { owner: null }, false],
    ['no such field', { name: 'n' }, false],
    ['a damaged record (so its check names it)', { damaged: 'not valid JSON' }, true],
    ['null', null, true],
    ['a string', 'text', true],
  ])('keeps %s: %s', (_what, value, kept) => {
    expect(matches(value, where)).toBe(kept);
  });

  it('inverts with not, absent fields included', () => {
    expect(matches({ owner: { team: 'y' } }, { ...where, not: true })).toBe(true);
    expect(matches({}, { ...where, not: true })).toBe(true);
    expect(matches({ owner: { team: 'x' } }, { ...where, not: true })).toBe(false);
    expect(matches({ damaged: 'x' }, { ...where, not: true })).toBe(true);
  });
});

describe('listing through a backend query', () => {
  it('asks the backend to use its group index only for a filter on the group field, on a backend that keeps groups', async () => {
    const asked: string[] = [];
    const scan = async (prefix: string, where?: { field: string; equals: string }, grouped?: boolean): Promise<[string, unknown][]> => {
      asked.push(`${prefix} ${where ? `${where.field}=${where.equals}` : 'all'} grouped=${String(grouped)}`);
      return [['a', { name: 'A', kind: 'front' }]];
    };
    const groups: GroupIndex = { add: async () => undefined, remove: async () => undefined };
    const withGroups = plain(new Keyv(), { scan, groups }).tiles;
    expect(await withGroups.where('kind', 'front')).toEqual([{ name: 'A', kind: 'front' }]);
    await withGroups.where('name', 'A');
    await withGroups.all();
    await plain(new Keyv(), { scan }).tiles.where('kind', 'front');
    expect(asked).toEqual([
      'tile: kind=front grouped=true',
      'tile: name=A grouped=false',
      'tile: all grouped=false',
      'tile: kind=front grouped=false',
    ]);
  });
});

describe('a collection on a backend with its own queries', () => {
  // keyv's iterator reads every record of every kind, and a read-compare-write is not atomic across
  // processes: where the backend has a query or a compare-and-set, the collection must use it.
  function backend() {
    const keyv = new Keyv();
    keyv.iterator = (() => {
      throw new Error('read every record');
    }) as never;
    const calls: string[] = [];
    const access: StoreAccess = {
      keyv,
      shown: 'memory://test',
      scan: async (prefix, where) => {
        calls.push(`scan ${prefix} ${where?.field ?? 'all'}`);
        return [['a', { name: 'A' }]];
      },
      swapMany: async (entries) => {
        calls.push(`swapMany ${entries.map((e) => `${e.key}@${e.expected}`).join(',')}`);
        return entries.map(() => true);
      },
    };
    return { calls, tiles: new Collection<Tile>(access, 'tile:', check, 'kind') };
  }

  it('lists and filters through the backend query, never reading every record', async () => {
    const { calls, tiles } = backend();
    expect(await tiles.all()).toEqual([{ name: 'A' }]);
    expect(await tiles.entries({ field: 'kind', equals: 'front' })).toEqual([['a', { name: 'A' }]]);
    expect(calls).toEqual(['scan tile: all', 'scan tile: kind']);
  });

  it("swaps many records in the backend's one step", async () => {
    const { calls, tiles } = backend();
    expect(await tiles.swapMany([{ id: 'a', value: { name: 'A', rev: 2 }, expected: 1 }])).toEqual([true]);
    expect(calls).toEqual(['swapMany tile:a@1']);
  });

  it('passes on an error of its record check that is not a damaged record', async () => {
    const keyv = new Keyv();
    await keyv.set('tile:a', { name: 'A' });
    const tiles = new Collection<Tile>({ keyv, shown: 'memory://test' }, 'tile:', () => {
      throw new TypeError('a bug in the check');
    });
    await expect(tiles.entries()).rejects.toThrow(TypeError);
  });
});

describe('a read-modify-swap', () => {
  const conflict = () => new Error('lost every race');
  // A record in memory whose swaps lose while `losing` says so: another writer bumps it first.
  function racing(start: Tile | undefined, losing: (tryNumber: number) => boolean) {
    let record = start;
    let swaps = 0;
    const steps: SwapSteps<Tile> = {
      read: async () => record,
      swap: async (value, expected) => {
        swaps += 1;
        if (losing(swaps)) {
          record = { ...record!, name: `winner ${swaps}`, rev: (record!.rev ?? 0) + 1 };
          return false;
        }
        if ((record?.rev ?? 0) !== expected) return false;
        record = value;
        return true;
      },
      insert: async (value) => {
        if (record !== undefined) return false;
        record = value;
        return true;
      },
    };
    return { steps, now: () => record, swaps: () => swaps };
  }

  it('decides again on what the winner of a lost race saved, and writes over its revision', async () => {
    const store = racing({ name: 'v0' }, (n) => n === 1);
    const seen: [string, number][] = [];
    const result = await readModifySwap(
      store.steps,
      (current, attempt) => {
        seen.push([current!.name, attempt]);
        return { ...current!, kind: 'changed' };
      },
      { attempts: 3, conflict },
    );
    expect(seen).toEqual([
      ['v0', 1],
      ['winner 1', 2],
    ]);
    expect(store.now()).toEqual({ name: 'winner 1', kind: 'changed', rev: 2 });
    expect(result).toEqual({ record: store.now(), before: { name: 'winner 1', rev: 1 }, written: true });
  });

  it("gives up after its attempts with the caller's error, having written nothing", async () => {
    const store = racing({ name: 'v0' }, () => true);
    await expect(readModifySwap(store.steps, (current) => ({ ...current!, kind: 'mine' }), { attempts: 4, conflict })).rejects.toThrow(
      'lost every race',
    );
    expect(store.swaps()).toBe(4);
    expect(store.now()!.kind).toBeUndefined();
    const once = racing({ name: 'v0' }, () => true);
    await expect(readModifySwap(once.steps, (current) => current, { attempts: 1, conflict })).rejects.toThrow('lost every race');
    expect(once.swaps()).toBe(1);
  });

  it('pauses between tries for a random time that grows to 20 ms, never after the last', async () => {
    const pauses: number[] = [];
    const realTimeout = globalThis.setTimeout;
    jest.spyOn(Math, 'random').mockReturnValue(0.999);
    jest.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms: number) => {
      pauses.push(ms);
      return realTimeout(fn, 0);
    }) as never);
    try {
      await expect(
        readModifySwap(racing({ name: 'v0' }, () => true).steps, (current) => current, { attempts: 13, conflict }),
      ).rejects.toThrow();
    } finally {
      jest.restoreAllMocks();
    }
    expect(pauses.map(Math.round)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 20, 20]);
  });

  it('writes nothing when the decision is to leave the record, and retries nothing a decision refused', async () => {
    const store = racing({ name: 'v0', rev: 3 }, () => false);
    expect(await readModifySwap(store.steps, () => undefined, { attempts: 3, conflict })).toEqual({
      record: { name: 'v0', rev: 3 },
      before: { name: 'v0', rev: 3 },
      written: false,
    });
    let tries = 0;
    const refuse = (): never => {
      tries += 1;
      throw new Error('busy');
    };
    await expect(readModifySwap(store.steps, refuse, { attempts: 3, conflict })).rejects.toThrow('busy');
    expect([tries, store.swaps()]).toEqual([1, 0]);
  });

  it('inserts where there is no record yet, as given, and tries again when another insert came first', async () => {
    const fresh = racing(undefined, () => false);
    expect(await readModifySwap(fresh.steps, (current) => current ?? { name: 'first' }, { attempts: 2, conflict })).toEqual({
      record: { name: 'first' },
      before: undefined,
      written: true,
    });
    let reads = 0;
    const taken = racing(undefined, () => false);
    const insert = taken.steps.insert!;
    taken.steps.insert = async (value) => {
      await insert({ name: 'theirs' });
      return insert(value);
    };
    const result = await readModifySwap(
      taken.steps,
      (current) => {
        reads++;
        return current ? { ...current, kind: 'after theirs' } : { name: 'mine' };
      },
      { attempts: 2, conflict },
    );
    expect(reads).toBe(2);
    expect(result.record).toEqual({ name: 'theirs', kind: 'after theirs', rev: 1 });
  });

  it('runs on a collection through its own get, insert and swap', async () => {
    const { keyv, tiles } = plain();
    await tiles.change('a', (current) => current ?? { name: 'first' }, { attempts: 1, conflict });
    const swap = jest.spyOn(tiles, 'swap');
    await tiles.change('a', (current) => ({ ...current!, name: 'second' }), { attempts: 1, conflict });
    expect(swap).toHaveBeenCalledWith('a', { name: 'second', rev: 1 }, 0);
    expect(await keyv.get('tile:a')).toEqual({ name: 'second', rev: 1 });
    swap.mockResolvedValue(false);
    await expect(tiles.change('a', (current) => current, { attempts: 2, conflict })).rejects.toThrow('lost every race');
    expect(swap).toHaveBeenCalledTimes(3);
    swap.mockRestore();
  });
});
