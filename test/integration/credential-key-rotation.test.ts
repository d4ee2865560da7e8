// Master-key rotation with the store in use (issue 11): every record re-sealed under the new key,
// resumable after a stop or a crash at any point, safe beside writers, and ending by retiring the
// old key. Runs on every store (jest projects sqlite, postgres, redis).
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { associatedData } from '../../src/credentials/credential-record.js';
import { RotationStoppedError, StoreError } from '../../src/errors.js';
import { type Credport, openCredport } from '../../src/open-credport.js';
import { CredentialRecords } from '../../src/store/credential-records.js';
import { keyId, prepareNextKeyFile, promoteNextKeyFile } from '../../src/keys/master-key.js';
import type { KeyState } from '../../src/keys/key-state.js';
import { openKeyv } from '../../src/store/open-keyv.js';
import { Sealer } from '../../src/keys/sealer.js';
import { fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';
import { rawStore, testStoreUri } from '../helpers/test-store.js';

let home: string;
let storeUri: string | undefined;
let open: Credport[];
const K1 = randomMasterKey();
const K2 = randomMasterKey();
const kid = (key: string) => keyId(Buffer.from(key, 'base64'));

beforeEach(async () => {
  home = await tempHome();
  storeUri = await testStoreUri();
  open = [];
});
afterEach(async () => {
  for (const credport of open) await credport.close().catch(() => undefined);
  await removeHome(home);
});

async function credportWith(masterKey: string, nextMasterKey?: string): Promise<Credport> {
  const credport = await openCredport({ home, storeUri, masterKey, ...(nextMasterKey ? { nextMasterKey } : {}), env: {} });
  open.push(credport);
  return credport;
}

/** Creates `n` credentials; returns each one's id and token, to check every secret after. */
async function fill(credport: Credport, n: number): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const token = fakeToken(`t${i}`);
    const tile = await credport.credentials.create({ connector: 'front', values: { name: `C${i}`, apiKey: token }, verify: false });
    tokens.set(tile.id, token);
  }
  return tokens;
}

/** Opens every record's secret with `key` alone, straight from the store: what a process holding only that key can read. */
async function secretsUnder(key: string): Promise<Map<string, string>> {
  const opened = await openKeyv(storeUri ?? `sqlite://${join(home, 'credport.sqlite')}`);
  try {
    const sealer = new Sealer({ key: Buffer.from(key, 'base64'), kid: kid(key), source: 'env' });
    const out = new Map<string, string>();
    for (const record of await new CredentialRecords(opened).all())
      out.set(record.id, (JSON.parse(sealer.open(record.sealed, associatedData(record), record.id)) as { apiKey: string }).apiKey);
    return out;
  } finally {
    await opened.close();
  }
}

describe('credport keys rotate (the library call)', () => {
  it('re-seals every record under the new key, retires the old one, and says so in the status', async () => {
    const tokens = await fill(await credportWith(K1), 25);
    const both = await credportWith(K1, K2);
    expect(await both.keys.status()).toMatchObject({
      key: kid(K1),
      sealingWith: kid(K1),
      held: [kid(K1), kid(K2)],
      records: [{ kid: kid(K1), count: 25 }],
      total: 25,
    });
    const seen: number[] = [];
    const result = await both.keys.rotate({ onProgress: (p) => seen.push(p.resealed) });
    expect(result).toMatchObject({ from: kid(K1), to: kid(K2), resealed: 25, total: 25 });
    expect(seen.at(-1)).toBe(25);
    const status = await both.keys.status();
    expect(status).toMatchObject({
      key: kid(K2),
      sealingWith: kid(K2),
      records: [{ kid: kid(K2), count: 25 }],
      retired: [{ kid: kid(K1) }],
    });
    expect(status.rotation).toBeUndefined();
    expect(await secretsUnder(K2)).toEqual(tokens);
    // The new key alone opens the store and every secret; the old key alone is refused, by name.
    const onlyNew = await credportWith(K2);
    expect((await onlyNew.credentials.list()).map((t) => t.revision)).toEqual(Array(25).fill(1));
    const refused = await credportWith(K1).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StoreError);
    expect((refused as Error).message).toMatch(
      new RegExp(`holds key ${kid(K1)}, which this store retired on .* when its key was rotated to ${kid(K2)}; use the new key`),
    );
  });

  it('counts the records under each key in its status, the most first and equal counts by key id, and damaged ones apart', async () => {
    await fill(await credportWith(K1), 4);
    // A rotation that dies after its first batch of 2: two records under each key.
    const halfway = await credportWith(K1, K2);
    const records = (halfway.keys as unknown as { deps: { records: CredentialRecords } }).deps.records;
    const swapMany = records.swapMany.bind(records);
    let writes = 0;
    records.swapMany = async (...args) =>
      ++writes > 1 ? Promise.reject(new StoreError('store_unavailable', 'the store went away')) : swapMany(...args);
    await expect(halfway.keys.rotate({ batch: 2 })).rejects.toMatchObject({ code: 'store_unavailable' });
    const raw = await rawStore(home, storeUri);
    await raw.set('credport:credential:cred_0000000000000bad', 'not JSON at all');
    await raw.close();
    const status = await (await credportWith(K1, K2)).keys.status();
    expect(status.records).toEqual([kid(K1), kid(K2)].sort().map((k) => ({ kid: k, count: 2 })));
    expect(status).toMatchObject({ damaged: 1, total: 5 });
  });

  it('says its progress batch by batch (up to three writes in flight), and a stop names what it did and what is left', async () => {
    await fill(await credportWith(K1), 20);
    const both = await credportWith(K1, K2);
    const seen: unknown[] = [];
    const stop = new AbortController();
    const error = await both.keys
      .rotate({
        batch: 4,
        signal: stop.signal,
        onProgress: (p) => {
          seen.push({ ...p });
          if (p.left <= 8) stop.abort();
        },
      })
      .catch((e: unknown) => e);
    // Batches 1-3 are sent without waiting; the fourth waits for the first to land; the stop is seen before the fourth is sent.
    expect(seen).toEqual([
      { resealed: 0, left: 20, total: 20 },
      { resealed: 0, left: 20, total: 20 },
      { resealed: 0, left: 16, total: 20 },
      { resealed: 0, left: 12, total: 20 },
      { resealed: 4, left: 8, total: 20 },
      { resealed: 12, left: 8, total: 20 },
    ]);
    expect(error).toMatchObject({
      code: 'rotation_stopped',
      message:
        'key rotation stopped after re-sealing 12 records (8 left); every record stays readable with either key: run credport keys rotate again to finish',
    });
    seen.length = 0;
    const before = performance.now();
    const result = await both.keys.rotate({ batch: 0, onProgress: (p) => seen.push({ ...p }) });
    const took = performance.now() - before;
    expect(result).toMatchObject({ from: kid(K1), to: kid(K2), resealed: 8, total: 20 });
    // The time it took, as the caller saw it (give or take the rounding).
    expect(result.ms).toBeGreaterThanOrEqual(0);
    expect(result.ms).toBeLessThanOrEqual(Math.ceil(took));
    // A batch under 1 is taken as 1: eight store steps, the last progress the whole.
    expect(seen).toHaveLength(1 + 8 + 1);
    expect(seen.at(-1)).toEqual({ resealed: 8, left: 0, total: 20 });
    // Run again with the store rotated: nothing to do, and it names the key it retired.
    const again = await both.keys.rotate();
    expect(again).toMatchObject({ from: kid(K1), to: kid(K2), resealed: 0, total: 20, already: true });
    const status = await both.keys.status();
    expect(status.retired).toEqual([{ kid: kid(K1), at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }]);
  });

  it('gives up after 20 passes in which other writers changed every record first, saying to run it again', async () => {
    await fill(await credportWith(K1), 3);
    const both = await credportWith(K1, K2);
    const records = (both.keys as unknown as { deps: { records: CredentialRecords } }).deps.records;
    let writes = 0;
    records.swapMany = async (items) => {
      writes++;
      return items.map(() => false);
    }; // every record changed since it was read
    const resealed = new Set<number>();
    await expect(both.keys.rotate({ onProgress: (p) => resealed.add(p.resealed) })).rejects.toMatchObject({
      code: 'write_conflict',
      message: 'records kept changing under the old key for 20 passes; run credport keys rotate again when the store is quieter',
    });
    expect(writes).toBe(20);
    expect([...resealed]).toEqual([0]); // a write that lost its race re-sealed nothing
  });

  it('a process whose key file another process rotated reads it again when it meets a record under the new key', async () => {
    const fileKeys = async () => {
      const credport = await openCredport({ home, storeUri, env: {} });
      open.push(credport);
      return credport;
    };
    const writer = await fileKeys();
    const tile = await writer.credentials.create({
      connector: 'front',
      values: { name: 'Support', apiKey: fakeToken('f') },
      verify: false,
    });
    const reader = await fileKeys(); // holds the old key only
    const next = await prepareNextKeyFile(join(home, 'master.key'));
    const rotator = await fileKeys();
    expect(await rotator.keys.rotate()).toMatchObject({ to: next.kid, resealed: 1 });
    expect(await promoteNextKeyFile(join(home, 'master.key'), next.kid)).toBe(true);
    await expect(reader.credentials.client(tile.id)).resolves.toBeDefined();
  });

  it('names, and re-seals nothing in, a store already under the key this process holds as its next one', async () => {
    await fill(await credportWith(K2), 2);
    const both = await credportWith(K1, K2);
    const before = performance.now();
    const result = await both.keys.rotate();
    expect(result).toMatchObject({ from: kid(K2), to: kid(K2), resealed: 0, total: 2, already: true });
    expect(result.ms).toBeLessThanOrEqual(Math.ceil(performance.now() - before));
  });

  it('sorts the status by count, then by key id, whatever order the store lists records in', async () => {
    const credport = await credportWith(K1, K2);
    const records = (credport.keys as unknown as { deps: { records: CredentialRecords } }).deps.records;
    const under = (id: string, k: string) => [id, { id, sealed: { kid: k } }] as never;
    const [low, high] = [kid(K1), kid(K2)].sort();
    for (const order of [
      [under('a', low!), under('b', high!)],
      [under('b', high!), under('a', low!)],
    ]) {
      records.entries = async () => order;
      expect((await credport.keys.status()).records).toEqual([
        { kid: low, count: 1 },
        { kid: high, count: 1 },
      ]);
    }
  });

  it('refuses to start without a new key, changing nothing', async () => {
    const credport = await credportWith(K1);
    await fill(credport, 2);
    await expect(credport.keys.rotate()).rejects.toMatchObject({
      code: 'no_next_key',
      exitCode: 2,
      field: 'CREDPORT_MASTER_KEY_NEXT',
      message: `there is no new master key to rotate to: this process holds only the store's key ${kid(K1)}; set CREDPORT_MASTER_KEY_NEXT to a new key (openssl rand -base64 32) in every process that uses the store, then run this again`,
    });
    expect(await credport.keys.status()).toMatchObject({ key: kid(K1), records: [{ kid: kid(K1), count: 2 }], retired: [] });
  });

  it('stopped or crashed at random points, resumes where it was: every record readable throughout, none re-sealed twice', async () => {
    const tokens = await fill(await credportWith(K1), 120);
    let resealed = 0;
    // Each run stops within its first 20 records (a stop takes effect at the next batch, after the up
    // to three writes in flight land), so both runs stop with batches left whatever the draw.
    for (const stopAt of [1 + Math.floor(Math.random() * 20), 1 + Math.floor(Math.random() * 20)]) {
      const rotating = await credportWith(K1, K2);
      const stop = new AbortController();
      const error = await rotating.keys
        .rotate({ batch: 8, signal: stop.signal, onProgress: (p) => p.resealed >= stopAt && stop.abort() })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RotationStoppedError);
      expect(error).toMatchObject({ exitCode: 130 });
      // Mid-rotation every record opens with the two keys, and a process holding both works on.
      const status = await rotating.keys.status();
      expect(status.rotation).toMatchObject({ from: kid(K1), to: kid(K2) });
      expect(status.records.reduce((n, r) => n + r.count, 0)).toBe(120);
      resealed = status.records.find((r) => r.kid === kid(K2))!.count;
      expect(resealed).toBeGreaterThanOrEqual(stopAt);
      await rotating.close();
    }
    // A crash: the store goes away in the middle of a batch (the process dies with writes in flight).
    const crashing = await credportWith(K1, K2);
    const records = (crashing.keys as unknown as { deps: { records: CredentialRecords } }).deps.records;
    let writes = 0;
    const swapMany = records.swapMany.bind(records);
    records.swapMany = async (...args) => {
      if (++writes > 1) throw new StoreError('store_unavailable', 'the store went away');
      return swapMany(...args);
    };
    await expect(crashing.keys.rotate({ batch: 7 })).rejects.toMatchObject({ code: 'store_unavailable' });
    await crashing.close();
    const resumed = await credportWith(K1, K2);
    // Writes in flight at the crash may or may not have landed (at most the 7 that were sent).
    const before = (await resumed.keys.status()).records.find((r) => r.kid === kid(K2))!.count;
    expect(before).toBeGreaterThanOrEqual(resealed);
    expect(before).toBeLessThanOrEqual(resealed + 7);
    const result = await resumed.keys.rotate();
    expect(result.resealed).toBe(120 - before); // only what was left
    expect(await secretsUnder(K2)).toEqual(tokens);
  });

  it('runs beside other processes: reads, renames, new credentials and secret rotations during it all land, all under the new key', async () => {
    const tokens = await fill(await credportWith(K1), 300);
    // Opened before the rotation starts, holding both keys (CREDPORT_MASTER_KEY_NEXT set everywhere first).
    const host = await credportWith(K1, K2);
    const rotator = await credportWith(K1, K2);
    const ids = [...tokens.keys()];
    const rotation = rotator.keys.rotate({ batch: 16 });
    const work = (async () => {
      for (let i = 0; i < 20; i++) {
        const id = ids[(i * 7) % ids.length]!;
        await host.credentials.client(id); // opens the secret under whichever key it is sealed with now
        await host.credentials.update(id, { description: `renamed ${i}` });
        const token = fakeToken(`new${i}`);
        if (i % 4 === 0) {
          await host.credentials.rotate(id, { secrets: { apiKey: token }, verify: false });
          tokens.set(id, token);
        }
        const tile = await host.credentials.create({ connector: 'front', values: { name: `during ${i}`, apiKey: token }, verify: false });
        tokens.set(tile.id, token);
      }
    })();
    await Promise.all([rotation, work]);
    // The host saw the rotation end: what it writes now is sealed under the new key, not the retired one.
    const afterToken = fakeToken('after');
    const after = await host.credentials.create({ connector: 'front', values: { name: 'after', apiKey: afterToken }, verify: false });
    tokens.set(after.id, afterToken);
    expect(await secretsUnder(K2)).toEqual(tokens); // every record, old and new, under the new key, with its latest secret
    expect((await host.credentials.list()).filter((t) => t.description?.startsWith('renamed'))).toHaveLength(
      new Set(Array.from({ length: 20 }, (_, i) => (i * 7) % 300)).size,
    );
  });

  it('syncs started before, during and after a rotation read their credentials and land every record', async () => {
    const { FrontEmulator } = await import('../../src/emulator/front-emulator.js');
    const { readFile } = await import('node:fs/promises');
    const emulator = await new FrontEmulator({
      records: 300,
      latencyMs: 5,
      tokens: [fakeToken('s0'), fakeToken('s1'), fakeToken('s2')],
    }).start();
    try {
      const filler = await credportWith(K1);
      await fill(filler, 200);
      // The host holds both keys (CREDPORT_MASTER_KEY_NEXT set before the rotation), as every process must.
      const host = await credportWith(K1, K2);
      const pairs: { source: string; destination: string; out: string }[] = [];
      for (const [i, token] of [...emulator.tokens].entries()) {
        const tile = await host.credentials.create({
          connector: 'front',
          values: { name: `sync ${i}`, apiKey: token },
          baseUrl: emulator.url,
        });
        const source = await host.configs.addSource({ name: `s${i}`, connector: 'front', credentialId: tile.id, streams: ['contacts'] });
        const destination = await host.configs.addDestination({ name: `d${i}`, connector: 'jsonl', path: join(home, `out-${i}`) });
        pairs.push({ source: source.id, destination: destination.id, out: join(home, `out-${i}`) });
      }
      const sync = (i: number) => host.syncs.run(pairs[i]!.source, pairs[i]!.destination);
      const before = sync(0);
      const rotation = (await credportWith(K1, K2)).keys.rotate({ batch: 8 });
      const during = sync(1);
      await rotation;
      const after = sync(2);
      const summaries = await Promise.all([before, during, after]);
      expect(summaries.map((s) => s.records)).toEqual([300, 300, 300]);
      for (const { out } of pairs) expect((await readFile(join(out, 'contacts.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(300);
      expect((await host.keys.status()).records).toEqual([{ kid: kid(K2), count: 203 }]);
    } finally {
      await emulator.stop();
    }
  });

  it('a create whose key was chosen before a whole rotation ran is re-sealed under the new key, not left under the retired one', async () => {
    const host = await credportWith(K1, K2);
    const rotator = await credportWith(K1, K2);
    await host.credentials.create({ connector: 'front', values: { name: 'before', apiKey: fakeToken('a') }, verify: false });
    // The host seals with the key it holds (no rotation yet); the whole rotation runs before its write lands.
    const records = (host.credentials as unknown as { deps: { records: { put: (id: string, value: unknown) => Promise<void> } } }).deps
      .records;
    const put = records.put.bind(records);
    let first = true;
    records.put = async (id, value) => {
      if (first) await rotator.keys.rotate();
      first = false;
      return put(id, value);
    };
    const lateToken = fakeToken('late');
    const late = await host.credentials.create({ connector: 'front', values: { name: 'late', apiKey: lateToken }, verify: false });
    const status = await rotator.keys.status();
    expect(status).toMatchObject({ key: kid(K2), retired: [{ kid: kid(K1) }], records: [{ kid: kid(K2), count: 2 }] });
    expect((await secretsUnder(K2)).get(late.id)).toBe(lateToken);
  });

  it('a record left under an older key by a writer that died is re-sealed by the next keys rotate, before the key file is swapped', async () => {
    const credport = await credportWith(K1, K2);
    const tokens = await fill(credport, 3);
    await credport.keys.rotate();
    // A writer that sealed under K1 and died before re-sealing: put such a record back, as it would be.
    const raw = await rawStore(home, storeUri);
    const [id] = [...tokens.keys()];
    const key = `credport:credential:${id}`;
    const text = JSON.parse((await raw.get(key))!) as { value: { sealed: unknown; rev: number } };
    const old = new Sealer({ key: Buffer.from(K1, 'base64'), kid: kid(K1), source: 'env' });
    const record = (await credport.credentials.show(id!)) as unknown as { id: string; connector: string };
    text.value.sealed = old.seal(
      JSON.stringify({ apiKey: tokens.get(id!) }),
      associatedData({ id: record.id, connector: record.connector, baseUrl: undefined, workspace: 'default' }),
    );
    await raw.set(key, JSON.stringify(text));
    await raw.close();
    expect((await credport.keys.status()).records).toEqual([
      { kid: kid(K2), count: 2 },
      { kid: kid(K1), count: 1 },
    ]);
    const again = await credport.keys.rotate();
    expect(again).toMatchObject({ to: kid(K2), resealed: 1 });
    expect(again.already).toBeUndefined();
    expect(await secretsUnder(K2)).toEqual(tokens);
    expect(await credport.keys.rotate()).toMatchObject({ resealed: 0, already: true });
  });

  it('two rotations cannot both start: the key state is written over the revision it was read at', async () => {
    const credport = await credportWith(K1, K2);
    await fill(credport, 1);
    const keys = (
      credport.keys as unknown as { deps: { keys: { state: KeyState; update: (from: KeyState, next: KeyState) => Promise<unknown> } } }
    ).deps.keys;
    const read = keys.state;
    await keys.update(read, { ...read, rotation: { from: read.kid, to: kid(K2), startedAt: new Date().toISOString() } });
    await expect(
      keys.update(read, { ...read, rotation: { from: read.kid, to: 'another0another0', startedAt: new Date().toISOString() } }),
    ).rejects.toMatchObject({ code: 'write_conflict' });
    expect((await credport.keys.status()).rotation?.to).toBe(kid(K2));
  });

  it('names a record it cannot re-seal and keeps both keys in use until it is dealt with', async () => {
    const credport = await credportWith(K1, K2);
    const tokens = await fill(credport, 5);
    const [broken] = [...tokens.keys()];
    const raw = await rawStore(home, storeUri);
    const key = `credport:credential:${broken}`;
    const text = JSON.parse((await raw.get(key))!) as { value: { sealed: { tag: string } } };
    text.value.sealed.tag = Buffer.alloc(16).toString('base64');
    await raw.set(key, JSON.stringify(text));
    await raw.close();
    const error = await credport.keys.rotate().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'corrupt_record', exitCode: 5 });
    expect((error as Error).message).toMatch(
      new RegExp(
        `^the key rotation from ${kid(K1)} to ${kid(K2)} cannot re-seal 1 record: ${broken} \\(credential ${broken} is damaged: .*\\)\\. Delete them \\(credport credentials delete <id>\\) or restore them from a backup, then run credport keys rotate again; until then both keys stay in use$`,
      ),
    );
    expect(await credport.keys.status()).toMatchObject({
      key: kid(K1),
      rotation: { to: kid(K2) },
      records: [
        { kid: kid(K2), count: 4 },
        { kid: kid(K1), count: 1 },
      ],
    });
    await credport.credentials.delete(broken!);
    await expect(credport.keys.rotate()).resolves.toMatchObject({ resealed: 0, total: 4 });
    expect((await credport.keys.status()).key).toBe(kid(K2));
  });

  it('names the first five records it cannot re-seal, damaged or unopenable, and how many there are', async () => {
    const credport = await credportWith(K1, K2);
    const ids = [...(await fill(credport, 6)).keys()];
    const raw = await rawStore(home, storeUri);
    for (const id of ids.slice(0, 5)) {
      const key = `credport:credential:${id}`;
      const text = JSON.parse((await raw.get(key))!) as { value: { sealed: { tag: string } } };
      text.value.sealed.tag = Buffer.alloc(16).toString('base64');
      await raw.set(key, JSON.stringify(text));
    }
    await raw.set('credport:credential:cred_0000000000000bad', 'not JSON at all');
    await raw.close();
    const error = await credport.keys.rotate().catch((e: unknown) => e);
    const message = (error as Error).message;
    expect(message).toMatch(new RegExp(`^the key rotation from ${kid(K1)} to ${kid(K2)} cannot re-seal 6 records: `));
    expect(message.match(/ \(credential cred_[0-9a-z]+ (in the store )?is damaged/g)).toHaveLength(5);
    expect(message).toContain('; …. Delete them (credport credentials delete <id>) or restore them from a backup');
    expect(await credport.keys.status()).toMatchObject({
      rotation: { from: kid(K1), to: kid(K2) },
      damaged: 1,
      records: [
        { kid: kid(K1), count: 5 },
        { kid: kid(K2), count: 1 },
      ],
    });
    // Five: all named, none left out.
    await credport.credentials.delete('cred_0000000000000bad', { force: true });
    const five = ((await credport.keys.rotate().catch((e: unknown) => e)) as Error).message;
    expect(five).toMatch(new RegExp(`^the key rotation from ${kid(K1)} to ${kid(K2)} cannot re-seal 5 records: `));
    expect(five.split('); cred_')).toHaveLength(5);
    expect(five).toContain(
      ' is damaged: its sealed secret does not authenticate (altered, truncated or moved from another record)). Delete them',
    );
  });

  it('refuses a process that lacks the new key while a rotation runs, before it writes anything a peer could not read', async () => {
    const credport = await credportWith(K1, K2);
    await fill(credport, 3);
    await credport.keys.rotate({ signal: AbortSignal.abort() }).catch(() => undefined); // started, then stopped at once
    const error = await credportWith(K1).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'wrong_master_key', exitCode: 5 });
    expect((error as Error).message).toBe(
      `this store's master key is being rotated from ${kid(K1)} to ${kid(K2)}, but this process holds key ${kid(K1)}: give every process that uses the store the new key as CREDPORT_MASTER_KEY_NEXT before a rotation starts`,
    );
    expect((error as Error).message).not.toContain(K1);
  });
});
