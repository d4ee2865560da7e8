import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectRedis } from '../../src/connections/connect-redis.js';
import { lostServerError, type ServerState, watchRedisConnections } from '../../src/connections/connection-watch.js';
import { OwnRedis } from '../helpers/own-servers.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

/** The connection watch of a worker or serve, against a Redis of the test's own that it kills and starts again. */
let home: string;
let redis: OwnRedis;
beforeAll(async () => {
  home = await tempHome();
  redis = await OwnRedis.start(home, { persist: false });
});
afterAll(async () => {
  await redis.stop();
  await removeHome(home);
});

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 400 && !check(); i++) await sleep(25);
  if (!check()) throw new Error(`timed out waiting for ${what}`);
};

describe('the connection watch', () => {
  it('says when a server goes away and comes back, for clients connected before and after it started, and gives up past its bound', async () => {
    const before = await connectRedis(redis.url, { server: 'the queue (test)', unavailable: 'queue_unavailable' });
    const changes: ServerState[] = [];
    const lost: ServerState[] = [];
    const watch = watchRedisConnections({ giveUpAfterMs: 6_000, onChange: (s) => changes.push(s), onLost: (s) => lost.push(s) });
    const after = await connectRedis(redis.url, { server: 'the shared rate limits (test)', unavailable: 'store_unavailable' });
    try {
      expect(changes).toEqual([]); // connecting is not news
      expect(watch.states().map((s) => [s.server, s.up])).toEqual([
        ['the queue (test)', true],
        ['the shared rate limits (test)', true],
      ]);

      await redis.kill();
      await until(() => changes.length >= 2, 'both servers down');
      expect(changes.map((c) => [c.server, c.up])).toEqual(
        expect.arrayContaining([
          ['the queue (test)', false],
          ['the shared rate limits (test)', false],
        ]),
      );
      expect(changes[0]!.error).toMatch(/Socket closed unexpectedly|ECONNREFUSED/);
      await redis.start();
      await until(() => changes.length >= 4, 'both servers back');
      expect(changes.slice(2).map((c) => c.up)).toEqual([true, true]);
      expect(lost).toEqual([]); // back within the bound
      expect(await before.ping()).toBe('PONG');
      expect(await after.ping()).toBe('PONG');

      await redis.kill();
      await until(() => lost.length > 0, 'the watch to give up');
      expect(lost).toHaveLength(1); // said once, for the process to act on
      expect(lost[0]).toMatchObject({ up: false, unavailable: expect.stringMatching(/^(queue|store)_unavailable$/) });
      const error = lostServerError(lost[0]!, 'this worker');
      expect(error.exitCode).toBe(5);
      expect(error.code).toBe(lost[0]!.unavailable);
      expect(error.message).toMatch(
        /^lost the (queue|shared rate limits) \(test\) \d+ s ago \(.+\) and it did not come back within CREDPORT_RETRY_FOR; exiting for a supervisor to start this worker again$/,
      );
    } finally {
      watch.stop();
      await redis.start();
      await Promise.all([before, after].map((c) => c.destroy()));
    }
  }, 30_000);

  it('a client closed on purpose is not a server lost', async () => {
    const changes: ServerState[] = [];
    const lost: ServerState[] = [];
    const watch = watchRedisConnections({ giveUpAfterMs: 200, onChange: (s) => changes.push(s), onLost: (s) => lost.push(s) });
    try {
      const client = await connectRedis(redis.url, { server: 'the store (test)', unavailable: 'store_unavailable' });
      await client.close();
      await sleep(600);
      expect(changes).toEqual([]);
      expect(lost).toEqual([]);
    } finally {
      watch.stop();
    }
  });
});
