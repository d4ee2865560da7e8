import { afterEach, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';

// The many-syncs bench gives each sync its own token and needs each to meet Front's per-company
// limit on its own: a window shared by every token would make a thousand syncs one company.
let emulator: FrontEmulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

const get = async (path: string, token: string) => {
  const response = await fetch(`${emulator!.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    remaining: response.headers.get('x-ratelimit-remaining'),
    limit: response.headers.get('x-ratelimit-limit'),
  };
};

describe("the Front emulator's rate limit", () => {
  it('per token: each token has its own window, a 429 with retry-after in seconds once its own is spent', async () => {
    emulator = await new FrontEmulator({ tokens: ['tok_a', 'tok_b'], rateLimit: 2, rateLimitPerToken: true }).start();
    expect(await get('/me', 'tok_a')).toMatchObject({ status: 200, remaining: '1', limit: '2' });
    expect(await get('/me', 'tok_a')).toMatchObject({ status: 200, remaining: '0' });
    const limited = await get('/me', 'tok_a');
    expect(limited).toMatchObject({ status: 429, remaining: '0' });
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(limited.retryAfter)).toBeLessThanOrEqual(60);
    // The other token's company has spent nothing.
    expect(await get('/me', 'tok_b')).toMatchObject({ status: 200, remaining: '1' });
    expect(await get('/me', 'tok_b')).toMatchObject({ status: 200, remaining: '0' });
    expect(emulator.stats.rateLimited).toBe(1);
  });

  it('unknown tokens share one window: random tokens cannot each get a fresh one', async () => {
    emulator = await new FrontEmulator({ tokens: ['tok_a'], rateLimit: 1, rateLimitPerToken: true }).start();
    expect((await get('/me', 'nope_1')).status).toBe(401);
    expect((await get('/me', 'nope_2')).status).toBe(429);
    expect((await get('/me', 'tok_a')).status).toBe(200);
  });

  it('without per-token mode, one window is shared by every token (the default, as before)', async () => {
    emulator = await new FrontEmulator({ tokens: ['tok_a', 'tok_b'], rateLimit: 2 }).start();
    expect((await get('/me', 'tok_a')).status).toBe(200);
    expect((await get('/me', 'tok_b')).status).toBe(200);
    expect((await get('/me', 'tok_b')).status).toBe(429);
  });

  it('answers list pages after latencyMs, and counts the pages answered at once', async () => {
    emulator = await new FrontEmulator({ tokens: ['tok_a'], latencyMs: 150 }).start();
    const started = Date.now();
    const pages = await Promise.all([get('/contacts', 'tok_a'), get('/tags', 'tok_a')]);
    expect(pages.map((p) => p.status)).toEqual([200, 200]);
    // A lower bound only (a loaded machine is slower, never faster).
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(emulator.stats.maxInFlight).toBe(2);
  });
});
