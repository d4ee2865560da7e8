import { describe, expect, it } from '@jest/globals';
import Keyv from 'keyv';
import { CredentialRecords } from '../../src/store/credential-records.js';
import { keyId, type MasterKey } from '../../src/keys/master-key.js';
import { Sealer } from '../../src/keys/sealer.js';
import { fixedKeys, KEY_STATE, type KeyState, StoreKeys } from '../../src/keys/key-state.js';

// The store, not the process, decides which key seals: these are the refusals a process gets when
// the keys it holds do not fit the store's state, which the operator reads to fix their setup.

const key = (fill: number, source: MasterKey['source'] = 'env'): MasterKey => {
  const bytes = Buffer.alloc(32, fill);
  return { key: bytes, kid: keyId(bytes), source };
};
const [A, B, C] = [key(1), key(2), key(3)];

async function openWith(state: KeyState | undefined, held: MasterKey[], reload: MasterKey[] = held) {
  const records = new CredentialRecords({ keyv: new Keyv(), shown: 'memory' });
  if (state) await records.setMeta(KEY_STATE, state);
  return { records, keys: await StoreKeys.open(records, held, async () => reload, 'CREDPORT_MASTER_KEY') };
}

const refusal = (state: KeyState, held: MasterKey[]) =>
  openWith(state, held).then(
    () => 'opened',
    (error: Error) => error.message,
  );

describe('the master key a store seals under', () => {
  it('is the first key held when the store has none yet, and recorded', async () => {
    const { records, keys } = await openWith(undefined, [A, B]);
    expect(keys.current.kid).toBe(A.kid);
    expect(keys.held).toEqual([A.kid, B.kid]);
    expect(keys.next).toBe(B.kid);
    expect(keys.nextSource).toBe('env');
    expect(await records.getMeta<KeyState>(KEY_STATE)).toMatchObject({ kid: A.kid });
    const alone = await openWith(undefined, [A]);
    expect(alone.keys.next).toBeUndefined();
    expect(alone.keys.nextSource).toBeUndefined();
  });

  it('is the new key while a rotation runs, for a process holding both', async () => {
    const { keys } = await openWith({ kid: A.kid, createdAt: 'x', rotation: { from: A.kid, to: B.kid, startedAt: 'y' } }, [A, B]);
    expect(keys.current.kid).toBe(B.kid);
    expect(keys.current.knows(A.kid)).toBe(true);
  });

  it('refuses, during a rotation, a process without the new key, naming both keys and the fix', async () => {
    expect(await refusal({ kid: A.kid, createdAt: 'x', rotation: { from: A.kid, to: B.kid, startedAt: 'y' } }, [A])).toBe(
      `this store's master key is being rotated from ${A.kid} to ${B.kid}, but this process holds key ${A.kid}: give every process that uses the store the new key as CREDPORT_MASTER_KEY_NEXT before a rotation starts`,
    );
  });

  it('refuses, during a rotation, a process that has only the new key, since records under the old one remain', async () => {
    expect(await refusal({ kid: A.kid, createdAt: 'x', rotation: { from: A.kid, to: B.kid, startedAt: 'y' } }, [B, C])).toBe(
      `this store's master key is being rotated from ${A.kid} to ${B.kid}, and records under ${A.kid} remain, but this process holds only key ${B.kid} and ${C.kid}: keep the old key as CREDPORT_MASTER_KEY until \`credport keys rotate\` has finished`,
    );
  });

  it('names a retired key held by a process, and when it was retired', async () => {
    const state = {
      kid: C.kid,
      createdAt: 'x',
      retired: [
        { kid: A.kid, at: '2026-01-01' },
        { kid: B.kid, at: '2026-06-01' },
      ],
    };
    expect(await refusal(state, [B])).toBe(
      `wrong master key: CREDPORT_MASTER_KEY holds key ${B.kid}, which this store retired on 2026-06-01 when its key was rotated to ${C.kid}; use the new key`,
    );
    expect(await refusal(state, [key(5), A])).toBe(
      `wrong master key: CREDPORT_MASTER_KEY holds key ${A.kid}, which this store retired on 2026-01-01 when its key was rotated to ${C.kid}; use the new key`,
    );
  });

  it('names the last rotation of a store whose key a process never held', async () => {
    const state = {
      kid: B.kid,
      createdAt: 'x',
      retired: [
        { kid: A.kid, at: '2026-01-01' },
        { kid: C.kid, at: '2026-06-01' },
      ],
    };
    expect(await refusal(state, [key(4)])).toBe(
      `wrong master key: this store's key is ${B.kid} (rotated on 2026-06-01), but CREDPORT_MASTER_KEY holds key ${key(4).kid}; use the key it was rotated to`,
    );
    expect(await refusal({ kid: B.kid, createdAt: 'x', retired: [] }, [A])).toBe(
      `wrong master key: this store was created with key ${B.kid}, but CREDPORT_MASTER_KEY holds key ${A.kid}; use the key the store was created with`,
    );
  });

  it('moves to the new key when a rotation starts elsewhere, reading the keys again, and keeps the sealer while nothing changed', async () => {
    const { records, keys } = await openWith(undefined, [A], [A, B]);
    const first = keys.current;
    expect(await keys.forWrite()).toBe(first);
    await records.setMeta(KEY_STATE, { kid: A.kid, createdAt: 'x', rotation: { from: A.kid, to: B.kid, startedAt: 'y' }, rev: 1 });
    expect((await keys.forWrite()).kid).toBe(B.kid);
    expect(keys.state.rev).toBe(1);
    expect(keys.held).toEqual([A.kid, B.kid]);
    expect((await keys.refresh()).kid).toBe(B.kid);
  });

  it('sees a rotation written while another read of the state was in flight, and concurrent checks share the next read', async () => {
    const { records, keys } = await openWith(undefined, [A], [A, B]);
    const getMeta = records.getMeta.bind(records);
    let reads = 0;
    let release: () => void = () => undefined;
    records.getMeta = async <T>(name: string): Promise<T | undefined> => {
      reads++;
      const state = await getMeta<T>(name);
      // The first read is held until released: it read the store before the rotation below was written.
      if (reads === 1) await new Promise<void>((resolve) => (release = resolve));
      return state;
    };
    const early = keys.forWrite();
    await new Promise((resolve) => setImmediate(resolve));
    await records.setMeta(KEY_STATE, { kid: A.kid, createdAt: 'x', rotation: { from: A.kid, to: B.kid, startedAt: 'y' }, rev: 1 });
    // Three adds whose writes landed after the rotation began: none may take the early read's answer.
    const late = [keys.forWrite(), keys.forWrite(), keys.forWrite()];
    release();
    expect((await early).kid).toBe(A.kid);
    expect((await Promise.all(late)).map((s) => s.kid)).toEqual([B.kid, B.kid, B.kid]);
    expect(reads).toBe(2);
  });

  it('is the one key given, for tools and tests that have no store to ask', async () => {
    const sealer = new Sealer(A);
    const keys = fixedKeys(sealer);
    expect([keys.current, await keys.forWrite(), await keys.refresh()]).toEqual([sealer, sealer, sealer]);
  });
});

describe('a change of key state', () => {
  it('is written over the revision it was read at, and refused once another change came first', async () => {
    const { records, keys } = await openWith(undefined, [A, B]);
    const from = keys.state;
    const started = { ...from, rotation: { from: A.kid, to: B.kid, startedAt: 'y' } };
    expect((await keys.update(from, started)).kid).toBe(B.kid);
    expect(await records.getMeta<KeyState>(KEY_STATE)).toMatchObject({ rev: 1, rotation: { to: B.kid } });
    await expect(keys.update(from, started)).rejects.toMatchObject({
      code: 'write_conflict',
      message:
        "the store's master key state changed while this rotation was being recorded (another rotation?): see credport keys status, then run credport keys rotate again",
    });
    expect(await records.getMeta<KeyState>(KEY_STATE)).toMatchObject({ rev: 1 });
  });

  it('lands on a plain keyv only at the revision it was read at (a state without one is at 0)', async () => {
    const records = new CredentialRecords({ keyv: new Keyv(), shown: 'memory' });
    expect(await records.swapMeta('m', { rev: 1 }, 1)).toBe(false);
    expect(await records.getMeta('m')).toBeUndefined();
    expect(await records.swapMeta('m', { rev: 1 }, 0)).toBe(true);
    expect(await records.swapMeta('m', { rev: 2 }, 0)).toBe(false);
    expect(await records.swapMeta('m', { rev: 2 }, 1)).toBe(true);
    expect(await records.getMeta('m')).toEqual({ rev: 2 });
  });
});

describe('the key state on a backend with compare-and-set', () => {
  it("is swapped in the backend's one step, not read and written", async () => {
    const swaps: string[] = [];
    const keyv = new Keyv();
    const records = new CredentialRecords({
      keyv,
      shown: 'memory',
      swap: async (k, text, expected) => {
        swaps.push(`${k}@${expected} ${text}`);
        return expected === 3;
      },
    });
    keyv.set = (async () => {
      throw new Error('a plain write');
    }) as never;
    expect(await records.swapMeta('m', { rev: 4 }, 3)).toBe(true);
    expect(await records.swapMeta('m', { rev: 4 }, 2)).toBe(false);
    expect(swaps).toEqual(['meta:m@3 {"value":{"rev":4}}', 'meta:m@2 {"value":{"rev":4}}']);
  });
});
