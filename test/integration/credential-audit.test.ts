// The audit trail (issue 11): every credential event, with its time, actor, credential and outcome,
// and never a secret. Runs on every store (jest projects sqlite, postgres, redis).
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { withActor } from '../../src/audit/audit-log.js';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { type Credport, openCredport } from '../../src/open-credport.js';
import { fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';
import { testStoreUri } from '../helpers/test-store.js';

let front: FrontEmulator;
let home: string;
let credport: Credport;
let storeUri: string | undefined;
const good = fakeToken('good');
const next = fakeToken('next');
const refused = fakeToken('refused');
const masterKey = randomMasterKey();

beforeAll(async () => (front = await new FrontEmulator({ records: 30, tokens: [good, next] }).start()));
afterAll(() => front.stop());
beforeEach(async () => {
  home = await tempHome();
  storeUri = await testStoreUri();
  credport = await openCredport({
    home,
    storeUri,
    masterKey,
    actor: 'cli:alice',
    env: { CREDPORT_HTTP_RETRIES: '0', CREDPORT_HTTP_TIMEOUT_MS: '2000' },
  });
});
afterEach(async () => {
  await credport.close();
  await removeHome(home);
});

describe('the audit trail', () => {
  it('records every credential event in order, with the actor, and not one secret', async () => {
    const tile = await credport.credentials.create({
      connector: 'front',
      values: { name: 'Support', description: 'team inbox', apiKey: good },
      baseUrl: front.url,
    });
    await expect(
      credport.credentials.create({ connector: 'front', values: { name: 'Wrong', apiKey: refused }, baseUrl: front.url }),
    ).rejects.toMatchObject({ exitCode: 3 });
    await withActor('api:token', () => credport.credentials.test(tile.id));
    await credport.credentials.update(tile.id, { name: 'Support EU' });
    await credport.credentials.rotate(tile.id, { secrets: { apiKey: next } });
    await expect(credport.credentials.rotate(tile.id, { secrets: { apiKey: refused } })).rejects.toMatchObject({ exitCode: 3 });
    const source = await credport.configs.addSource({ name: 'Front', connector: 'front', credentialId: tile.id, streams: ['tags'] });
    const destination = await credport.configs.addDestination({ name: 'Files', connector: 'jsonl', path: join(home, 'out') });
    await withActor('worker:host-1', () => credport.syncs.run(source.id, destination.id));
    await credport.configs.deleteSource(source.id);
    await credport.credentials.delete(tile.id);

    const events = await credport.audit.list();
    expect(events.map((e) => [e.action, e.outcome, e.actor, e.credentialId ?? '-'])).toEqual([
      ['credential.created', 'ok', 'cli:alice', tile.id],
      // The refused create left the store as it was: no event either.
      ['credential.verified', 'ok', 'api:token', tile.id],
      ['credential.renamed', 'ok', 'cli:alice', tile.id],
      ['credential.rotated', 'ok', 'cli:alice', tile.id],
      ['credential.verification_failed', 'refused', 'cli:alice', tile.id],
      ['credential.used', 'ok', 'worker:host-1', tile.id],
      ['credential.deleted', 'ok', 'cli:alice', tile.id],
    ]);
    expect(events.every((e) => e.connector === 'front')).toBe(true);
    expect(events[4]!.detail).toBe('Front rejected the credential: 401 Unauthenticated: Invalid or missing API token (GET /me)'); // the provider's words
    expect(events[0]!.detail).toBe('verified with the provider');
    expect(events[2]!.detail).toBe('name changed');
    expect(events[3]!.detail).toBe('new secret verified with the provider');
    expect(events[5]!.detail).toBe(`sync ${source.id} -> ${destination.id} (read)`);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.map((e) => e.at)).toEqual(events.map((e) => e.at).sort());
    // No secret, name or description: grep the trail as stored for every token used, and the public fields.
    const trail = JSON.stringify(events);
    for (const text of [good, next, refused, good.slice(-16), 'Support', 'team inbox']) expect(trail).not.toContain(text);
  });

  it('a trail that cannot be written does not turn a saved change into a reported failure', async () => {
    const warned = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      credport.audit.record = async () => {
        throw new Error('the store went away');
      };
      const tile = await credport.credentials.create({
        connector: 'front',
        values: { name: 'Saved', apiKey: good },
        baseUrl: front.url,
        verify: false,
      });
      expect((await credport.credentials.list()).map((t) => t.id)).toEqual([tile.id]);
      // A refused rotation still says why: the provider's refusal, not the trail's failure.
      await expect(credport.credentials.rotate(tile.id, { secrets: { apiKey: refused } })).rejects.toMatchObject({ exitCode: 3 });
      expect(String(warned.mock.calls[0]?.[0])).toMatch(new RegExp(`^the audit trail could not record credential.created of ${tile.id}: `));
    } finally {
      warned.mockRestore();
    }
  });

  it('records a key rotation and a sync that found its credential revoked, and filters by credential, time and count', async () => {
    const a = await credport.credentials.create({ connector: 'front', values: { name: 'A', apiKey: good }, baseUrl: front.url });
    const b = await credport.credentials.create({
      connector: 'front',
      values: { name: 'B', apiKey: fakeToken('b') },
      baseUrl: front.url,
      verify: false,
    });
    const newKey = randomMasterKey();
    const rotating = await openCredport({ home, storeUri, masterKey, nextMasterKey: newKey, actor: 'cli:root', env: {} });
    await rotating.keys.rotate();
    await rotating.close();
    // From here on this process holds the new key (as every process should before a rotation starts).
    await credport.close();
    credport = await openCredport({ home, storeUri, masterKey: newKey, actor: 'cli:alice', env: { CREDPORT_HTTP_RETRIES: '0' } });
    await credport.credentials.rotate(b.id, { secrets: { apiKey: fakeToken('b2') }, verify: false });
    const source = await credport.configs.addSource({ name: 'Front', connector: 'front', credentialId: b.id, streams: ['tags'] });
    const destination = await credport.configs.addDestination({ name: 'Files', connector: 'jsonl', path: join(home, 'out') });
    const failed = await credport.syncs.run(source.id, destination.id).catch((e: unknown) => e); // b's token is unknown to Front
    expect(failed).toMatchObject({ exitCode: 3 });

    const all = await credport.audit.list();
    expect(all.find((e) => e.action === 'keys.rotated')).toMatchObject({
      actor: 'cli:root',
      outcome: 'ok',
      detail: expect.stringMatching(/^master key [0-9a-f]{16} retired for [0-9a-f]{16}: 2 of 2 credentials re-sealed by this run$/),
    });
    expect(all.at(-1)).toMatchObject({
      action: 'credential.verification_failed',
      outcome: 'refused',
      credentialId: b.id,
      actor: 'cli:alice',
      detail: expect.stringMatching(/^refused during a sync: /),
    });
    expect((await credport.audit.list({ credentialId: a.id })).map((e) => e.action)).toEqual(['credential.created']);
    const ofB = await credport.audit.list({ credentialId: b.id });
    expect(ofB[0]).toMatchObject({ action: 'credential.created', detail: 'saved without verification' });
    expect(ofB[1]).toMatchObject({ action: 'credential.rotated', detail: 'new secret saved without verification' });
    expect((await credport.audit.list({ latest: 2 })).map((e) => e.id)).toEqual(all.slice(-2).map((e) => e.id));
    expect(await credport.audit.list({ latest: 0 })).toEqual([]); // `credport audit --limit 0`: none, not the whole trail
    expect(await credport.audit.list({ since: new Date(Date.now() + 60_000) })).toEqual([]);
    expect((await credport.audit.list({ since: new Date(all[2]!.at) })).length).toBeGreaterThanOrEqual(all.length - 2);
  });
});
