import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SharedWindows } from '../../src/http/shared-window.js';
import { openRedisWindows } from '../../src/http/shared-rate-windows.js';
import { ensureRedis, freshRedisUri } from '../helpers/test-servers.js';

/** The shared window's scripts on a real Redis: the countdown every process of a credential shares. */
let windows: SharedWindows;
beforeAll(async () => {
  await ensureRedis();
  windows = await openRedisWindows(await freshRedisUri());
});
afterAll(() => windows.close());

let n = 0;
const fresh = () => windows.for(`cred_test${Date.now()}${++n}`);

describe("a credential's shared rate window in Redis", () => {
  it('lets requests go until an answer says what is left, then counts them down and holds the rest until the reset', async () => {
    const window = fresh();
    expect(await window.take()).toBe(0); // nothing known yet: the first requests go
    await window.observe(2, Date.now() + 800);
    expect(await window.take()).toBe(0);
    expect(await window.take()).toBe(0);
    const wait = await window.take();
    expect(wait).toBeGreaterThan(600);
    expect(wait).toBeLessThanOrEqual(800);
    await new Promise((resolve) => setTimeout(resolve, wait + 20));
    expect(await window.take()).toBe(0); // the window turned
  });

  it('keeps the lower count within one window: a late answer cannot raise it', async () => {
    const window = fresh();
    const reset = Date.now() + 5_000;
    await window.observe(1, reset);
    await window.observe(50, reset + 300); // the same window, an older answer arriving late
    expect(await window.take()).toBe(0);
    expect(await window.take()).toBeGreaterThan(4_000);
    await window.observe(10, reset + 60_000); // a new window replaces it
    expect(await window.take()).toBe(0);
  });

  it("holds every process of the credential through a 429's pause, and only that credential", async () => {
    const window = fresh();
    const other = fresh();
    await window.pause(700);
    const wait = await window.take();
    expect(wait).toBeGreaterThan(500);
    expect(wait).toBeLessThanOrEqual(700);
    expect(await other.take()).toBe(0);
  });
});
