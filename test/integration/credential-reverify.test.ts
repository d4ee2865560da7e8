// Scheduled re-verification (issue 11): stale credentials re-tested a few at a time; a refusal marks
// the tile invalid with the provider's words and when; an outage changes nothing. Every store.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { type Credport, openCredport } from '../../src/open-credport.js';
import { fakeToken, removeHome, tempHome } from '../helpers/temp-home.js';
import { rawStore, testStoreUri } from '../helpers/test-store.js';

let front: FrontEmulator;
let home: string;
let credport: Credport;
let storeUri: string | undefined;
const tokens = Array.from({ length: 5 }, (_, i) => fakeToken(`r${i}`));
const DAY = 86_400_000;

beforeAll(async () => (front = await new FrontEmulator({ tokens }).start()));
afterAll(() => front.stop());
beforeEach(async () => {
  home = await tempHome();
  for (const token of tokens) front.tokens.add(token);
  storeUri = await testStoreUri();
  credport = await openCredport({
    home,
    storeUri,
    actor: 'cli:ops',
    env: { CREDPORT_HTTP_RETRIES: '0', CREDPORT_HTTP_TIMEOUT_MS: '1000' },
  });
});
afterEach(async () => {
  await credport.close();
  await removeHome(home);
});

const add = (i: number, extra: Record<string, unknown> = {}) =>
  credport.credentials.create({ connector: 'front', values: { name: `C${i}`, apiKey: tokens[i]! }, baseUrl: front.url, ...extra });

describe('credport credentials verify --stale (the library call)', () => {
  it("re-tests the stale ones only: a revoked token is marked invalid with Front's words and when, an outage changes nothing", async () => {
    const kept = await add(0);
    const revoked = await add(1);
    const never = await add(2, { verify: false });
    const away = await add(3, { baseUrl: 'http://127.0.0.1:9' }).catch(() => undefined); // cannot be verified at all
    expect(away).toBeUndefined();
    const unreachable = await credport.credentials.create({
      connector: 'front',
      values: { name: 'Away', apiKey: tokens[3]! },
      baseUrl: 'http://127.0.0.1:9',
      verify: false,
    });
    front.tokens.delete(tokens[1]!); // revoked in Front's settings

    // Nothing is stale yet but the never-verified ones.
    const first = await credport.reverify({ olderThanMs: DAY });
    expect(first).toMatchObject({ checked: 2, verified: 1, unavailable: 1, refused: 0, skipped: 2 });
    const unreachableBefore = await credport.credentials.show(unreachable.id);

    // A day later everything verified is stale again.
    const later = new Date(Date.now() + DAY + 1000);
    const seen: string[] = [];
    const second = await credport.reverify({
      olderThanMs: DAY,
      now: () => later,
      concurrency: 2,
      onResult: (r) => seen.push(`${r.id}:${r.outcome}`),
    });
    expect(second).toMatchObject({ checked: 4, verified: 2, refused: 1, unavailable: 1, skipped: 0 });
    expect(seen.sort()).toEqual(
      [`${kept.id}:verified`, `${never.id}:verified`, `${revoked.id}:refused`, `${unreachable.id}:unavailable`].sort(),
    );
    const tile = await credport.credentials.show(revoked.id);
    expect(tile).toMatchObject({
      status: 'invalid',
      invalidReason: 'Front rejected the credential: 401 Unauthenticated: Invalid or missing API token (GET /me)',
    });
    expect(Date.parse(tile.invalidAt!)).toBeGreaterThan(Date.parse(revoked.verifiedAt!));
    expect(await credport.credentials.show(unreachable.id)).toEqual(unreachableBefore); // an outage changes nothing

    // An invalid tile waits for a rotation; once rotated and verified it is clean again.
    expect((await credport.reverify({ olderThanMs: DAY, now: () => later })).results.map((r) => r.id)).not.toContain(revoked.id);
    const rotated = await credport.credentials.rotate(revoked.id, { secrets: { apiKey: tokens[4]! } });
    expect(rotated.status).toBe('verified');
    expect(rotated).not.toHaveProperty('invalidAt');
    expect(rotated).not.toHaveProperty('invalidReason');

    const audit = await credport.audit.list({ credentialId: revoked.id });
    expect(audit.find((e) => e.outcome === 'refused')).toMatchObject({ action: 'credential.verification_failed', actor: 'cli:ops' });
  });

  it('re-tests only the connector asked for, and names a credential it cannot open as failed, going on with the rest', async () => {
    const good = await add(0, { verify: false });
    const broken = await add(1, { verify: false });
    const raw = await rawStore(home, storeUri);
    const key = `credport:credential:${broken.id}`;
    const stored = JSON.parse((await raw.get(key))!) as { value: { sealed: { tag: string } } };
    stored.value.sealed.tag = Buffer.alloc(16).toString('base64');
    await raw.set(key, JSON.stringify(stored));
    await raw.close();
    expect(await credport.reverify({ olderThanMs: DAY, connector: 'frontline' })).toMatchObject({ checked: 0, skipped: 0 });
    const summary = await credport.reverify({ olderThanMs: DAY, connector: 'front' });
    expect(summary).toMatchObject({ checked: 2, verified: 1, failed: 1 });
    expect(summary.results.find((r) => r.id === good.id)).toMatchObject({ outcome: 'verified' });
    expect(summary.results.find((r) => r.id === broken.id)).toMatchObject({
      outcome: 'failed',
      message: expect.stringContaining(`credential ${broken.id} `),
    });
  });

  it('counts a credential verified exactly the given time ago as stale, takes a concurrency under 1 as 1, and checks nothing once stopped', async () => {
    const tile = await add(0);
    const atTheMark = new Date(Date.parse(tile.verifiedAt!) + DAY);
    expect(await credport.reverify({ olderThanMs: DAY, now: () => new Date(atTheMark.getTime() - 1) })).toMatchObject({
      checked: 0,
      skipped: 1,
    });
    const before = performance.now();
    const summary = await credport.reverify({ olderThanMs: DAY, now: () => atTheMark, concurrency: 0 });
    expect(summary).toMatchObject({ checked: 1, verified: 1, skipped: 0 });
    expect(summary.ms).toBeGreaterThanOrEqual(0);
    expect(summary.ms).toBeLessThanOrEqual(Math.ceil(performance.now() - before));
    const stopped = new AbortController();
    stopped.abort();
    expect(await credport.reverify({ olderThanMs: 0, signal: stopped.signal })).toMatchObject({ checked: 0, skipped: 0 });
  });

  it('the schedule says a pass that failed, and goes on', async () => {
    const errors: unknown[] = [];
    const failing = await openCredport({ home, storeUri, env: {} });
    const list = failing.credentials.list.bind(failing.credentials);
    let calls = 0;
    failing.credentials.list = async (...args) => (++calls === 1 ? Promise.reject(new Error('store went away')) : list(...args));
    const passes: number[] = [];
    const schedule = await failing.scheduleReverify(100, { onError: (e) => errors.push(e), onPass: (s) => passes.push(s.checked) });
    while (passes.length < 1) await new Promise((resolve) => setTimeout(resolve, 20));
    await schedule.stop();
    expect(errors).toEqual([new Error('store went away')]);
    // Without an onError a failed pass is dropped, and stopping still works.
    calls = 0;
    const quiet = await failing.scheduleReverify(100);
    await expect(quiet.stop()).resolves.toBeUndefined();
    await failing.close();
  });

  it('the schedule stopped during its pass runs no other', async () => {
    await add(0, { verify: false });
    const passes: number[] = [];
    const schedule = await credport.scheduleReverify(100, { onPass: (s) => passes.push(s.checked) });
    await schedule.stop(); // the first pass is under way
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(passes).toHaveLength(1);
  });

  it('paces a pass by the provider: every request to one origin passes one gate, so a limit of 10 a second draws no 429', async () => {
    const limited = await new FrontEmulator({ tokens, rateLimit: 10, rateWindowMs: 1000 }).start();
    // No retries, so a 429 would show as a failure; the default timeout, so a loaded machine's slow answer does not.
    const paced = await openCredport({ home, storeUri: await testStoreUri(), env: { CREDPORT_HTTP_RETRIES: '0' } });
    try {
      for (let i = 0; i < 25; i++)
        await paced.credentials.create({
          connector: 'front',
          values: { name: `L${i}`, apiKey: tokens[i % 5]! },
          baseUrl: limited.url,
          verify: false,
        });
      const summary = await paced.reverify({ olderThanMs: DAY, concurrency: 8 });
      expect(summary).toMatchObject({ checked: 25, verified: 25 });
      expect(limited.stats.rateLimited).toBeLessThanOrEqual(1);
      expect(summary.ms).toBeGreaterThanOrEqual(1500); // 25 requests at 10 a second span at least two window turns
    } finally {
      await paced.close();
      await limited.stop();
    }
  });

  it('the schedule runs a pass at once and then again, as the scheduler in the audit trail, until stopped', async () => {
    const a = await add(0, { verify: false });
    const passes: number[] = [];
    const schedule = await credport.scheduleReverify(300, { onPass: (s) => passes.push(s.checked) });
    while (passes.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    await schedule.stop();
    expect(passes[0]).toBe(1);
    expect((await credport.credentials.show(a.id)).status).toBe('verified');
    expect((await credport.audit.list({ credentialId: a.id })).at(-1)).toMatchObject({
      action: 'credential.verified',
      actor: 'scheduler:reverify',
    });
    const after = passes.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(passes.length).toBe(after); // stopped means stopped
  });

  it('the schedule finds a token revoked in the provider and shows its tile invalid, in every workspace', async () => {
    const { withAccess } = await import('../../src/access/access.js');
    const elsewhere = await withAccess({ workspace: 'acme', role: 'admin' }, () => add(1));
    front.tokens.delete(tokens[1]!); // revoked in Front's settings after it was saved
    const schedule = await credport.scheduleReverify(200);
    try {
      let tile = await withAccess({ workspace: 'acme', role: 'viewer' }, () => credport.credentials.show(elsewhere.id));
      for (let i = 0; i < 50 && tile.status !== 'invalid'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        tile = await withAccess({ workspace: 'acme', role: 'viewer' }, () => credport.credentials.show(elsewhere.id));
      }
      expect(tile).toMatchObject({ status: 'invalid', invalidReason: expect.stringContaining('401 Unauthenticated') });
    } finally {
      await schedule.stop();
    }
  });
});
