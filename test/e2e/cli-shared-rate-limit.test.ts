import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { runCli } from '../helpers/run-cli.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';
import { ensureRedis, freshRedisUri } from '../helpers/test-servers.js';

/**
 * Two `credport sync` processes on one Front credential against a provider that allows R requests
 * a window: with CREDPORT_REDIS they share one budget and stay within it; each on its own, they
 * both spend what the provider's headers say is left and draw 429s.
 */
const R = 20;
const WINDOW_MS = 1_000;
const RECORDS = 1_500; // 4 streams of 15 pages each, a sync

let home: string;
beforeAll(async () => {
  home = await tempHome();
  await ensureRedis();
});
afterAll(() => removeHome(home));

async function twoSyncs(redis: string | undefined) {
  const emulator = await new FrontEmulator({ records: RECORDS, rateLimit: R, rateWindowMs: WINDOW_MS }).start();
  const token = [...emulator.tokens][0]!;
  const credport = await openCredport({ home, env: {} });
  const tile = await credport.credentials.create({
    connector: 'front',
    values: { name: 'shared', apiKey: token },
    baseUrl: emulator.url,
    verify: false,
  });
  const pairs = [];
  for (const n of [1, 2]) {
    const source = await credport.configs.addSource({
      name: `s${n}`,
      connector: 'front',
      credentialId: tile.id,
      streams: ['contacts', 'conversations', 'tags', 'accounts'],
    });
    const destination = await credport.configs.addDestination({
      name: `d${n}`,
      connector: 'jsonl',
      path: join(home, `out-${redis ? 'shared' : 'alone'}-${n}`),
    });
    pairs.push({ source: source.id, destination: destination.id, out: join(home, `out-${redis ? 'shared' : 'alone'}-${n}`) });
  }
  await credport.close();
  const env = { CREDPORT_HOME: home, CREDPORT_HTTP_RETRIES: '5', ...(redis ? { CREDPORT_REDIS: redis } : {}) };
  const started = Date.now();
  const results = await Promise.all(
    pairs.map((p) => runCli(['sync', p.source, '--to', p.destination, '--concurrency', '4', '--json'], { env })),
  );
  const elapsed = Date.now() - started;
  const stats = { ...emulator.stats };
  await emulator.stop();
  for (const r of results) expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' }); // a failure shows why
  for (const p of pairs) {
    for (const stream of ['contacts', 'conversations', 'tags', 'accounts']) {
      expect((await readFile(join(p.out, `${stream}.jsonl`), 'utf8')).split('\n').length - 1).toBe(RECORDS);
    }
  }
  return { rateLimited: stats.rateLimited, pages: stats.pages, elapsed };
}

describe('one rate limit per credential, shared by every process through Redis', () => {
  it('two syncs sharing CREDPORT_REDIS stay within the window (at most a handful of 429s), where on their own they draw them', async () => {
    const redis = await freshRedisUri();
    const shared = await twoSyncs(redis);
    const alone = await twoSyncs(undefined);
    expect(shared.pages).toBe(alone.pages);
    // Sharing: a handful at most (a window's first requests go before any answer says what is left;
    // 0 to 2 on a quiet machine, 4 and once 6 under the whole suite's load on a slow day).
    expect(shared.rateLimited).toBeLessThanOrEqual(6);
    // Alone (measured 7 to 11 here): the control, so the first figure is not an accident of timing.
    expect(alone.rateLimited).toBeGreaterThan(shared.rateLimited);
    expect(alone.rateLimited).toBeGreaterThanOrEqual(5);
  }, 120_000);

  it('names a Redis it cannot reach, without its password (exit 5)', async () => {
    const result = await runCli(['sync', 'src_none', '--to', 'dst_none'], {
      env: { CREDPORT_HOME: home, CREDPORT_REDIS: 'redis://:hunter2-pw@127.0.0.1:1' },
    });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('the Redis for shared rate limits (CREDPORT_REDIS redis://:***@127.0.0.1:1) cannot be used');
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });
});
