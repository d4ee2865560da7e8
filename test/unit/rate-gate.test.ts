import { describe, expect, it } from '@jest/globals';
import { RateGate, retryAfterMs } from '../../src/http/rate-gate.js';

const NOW = 1_800_000_000_000;

describe('reading retry-after defensively', () => {
  it.each([
    ['seconds, as Front documents', { 'retry-after': '2' }, {}, 2000],
    ['milliseconds when the body says so', { 'retry-after': '341' }, { _error: { message: 'Please retry in 341 milliseconds' } }, 341],
    ['milliseconds when the number cannot be seconds for a per-minute limit', { 'retry-after': '900' }, {}, 900],
    ['an HTTP date', { 'retry-after': new Date(NOW + 3000).toUTCString() }, {}, 3000],
    ['the reset header when retry-after is missing', { 'x-ratelimit-reset': String((NOW + 5000) / 1000) }, {}, 5000],
    ['one second when nothing says', {}, {}, 1000],
    ['at least 50 ms', { 'retry-after': '0' }, {}, 50],
    ['at most two minutes', { 'retry-after': '99999999' }, {}, 120_000],
  ])('takes %s', (_what, headers, body, expected) => {
    expect(retryAfterMs(headers, body, NOW)).toBe(expected);
  });

  it('reads milliseconds from a body given as text, and ignores a reset header that is no number', () => {
    expect(retryAfterMs({ 'retry-after': '341' }, 'Please retry in 341 milliseconds', NOW)).toBe(341);
    expect(retryAfterMs({ 'retry-after': '2' }, 'try later', NOW)).toBe(2000);
    expect(retryAfterMs({ 'x-ratelimit-reset': 'soon' }, {}, NOW)).toBe(1000);
    expect(retryAfterMs({ 'x-ratelimit-reset': String(NOW + 4000) }, {}, NOW)).toBe(4000); // milliseconds since the epoch
    expect(retryAfterMs({ 'x-ratelimit-reset': '3' }, {}, NOW)).toBe(3000); // a delta in seconds
  });

  it("waits for the end of a fixed window when neither retry-after nor a reset header says (Frontline's 429)", () => {
    expect(retryAfterMs({ 'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': '0' }, { ok: false }, NOW, NOW + 42_000)).toBe(42_000);
    // A header that does say wins over the estimate.
    expect(retryAfterMs({ 'retry-after': '2' }, {}, NOW, NOW + 42_000)).toBe(2000);
  });
});

describe('a fixed rate-limit window (Frontline: 60 s, no reset header)', () => {
  const WINDOW = { window: 'fixed' as const, windowMs: 60_000 };

  it('ends a whole window from now when the gate did not see it open, since the current one ends within that', () => {
    const gate = new RateGate(() => NOW);
    expect(gate.windowEndsAt(WINDOW)).toBe(NOW + 60_000);
    gate.observe({ 'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': '500' }, WINDOW);
    expect(gate.windowEndsAt(WINDOW)).toBe(NOW + 60_000);
  });

  it('ends one window after the answer that opened it (remaining = limit - 1)', () => {
    let now = NOW;
    const gate = new RateGate(() => now);
    gate.observe({ 'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': '999' }, WINDOW);
    now = NOW + 45_000;
    expect(gate.windowEndsAt(WINDOW)).toBe(NOW + 60_000);
    now = NOW + 61_000; // that window is over, and we did not see the next one open
    expect(gate.windowEndsAt(WINDOW)).toBe(NOW + 121_000);
  });

  it('holds requests until the window turns once remaining reaches 0, with no reset header', async () => {
    let offset = 0;
    const gate = new RateGate(() => Date.now() + offset);
    gate.observe({ 'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': '999' }, WINDOW);
    offset = 59_850; // the gate's clock: 150 ms before the window ends
    gate.observe({ 'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': '0' }, WINDOW);
    const waited = await gate.acquire();
    expect(waited).toBeGreaterThanOrEqual(100);
    expect(waited).toBeLessThan(1000);
  });
});

describe('the per-credential gate', () => {
  it('holds requests until x-ratelimit-reset once x-ratelimit-remaining is 0, and not while requests remain', async () => {
    const gate = new RateGate();
    gate.observe({ 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': String(Date.now() / 1000 + 60) });
    expect(await gate.acquire()).toBe(0);
    gate.observe({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String((Date.now() + 150) / 1000) });
    const started = Date.now();
    await gate.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('never waits more than two minutes for a reset header far in the future', async () => {
    let now = 0;
    const gate = new RateGate(() => now);
    gate.observe({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(1e10) });
    now = 120_000; // two minutes later, by the gate's clock
    expect(await gate.acquire()).toBe(0);
  });

  it('pauses every waiter after a 429, however many there are', async () => {
    const gate = new RateGate();
    gate.pause(120);
    const started = Date.now();
    const waits = await Promise.all([gate.acquire(), gate.acquire(), gate.acquire()]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    expect(waits.every((w) => w >= 110)).toBe(true);
  });
});

describe('the budget of a window, with requests in flight', () => {
  const reset = (ms: number) => String((Date.now() + ms) / 1000);

  it('counts every request sent after an answer against what that answer left', async () => {
    const gate = new RateGate();
    gate.observe({ 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '2', 'x-ratelimit-reset': reset(150) });
    expect(await gate.acquire()).toBe(0);
    expect(await gate.acquire()).toBe(0);
    // The window has nothing left for a third: it waits for the reset instead of drawing a 429.
    const waited = await gate.acquire();
    expect(waited).toBeGreaterThanOrEqual(100);
    expect(gate.stats).toMatchObject({ requests: 3, announcedLimit: 100 });
  });

  it('takes the requests still in flight as not yet counted by the answer', async () => {
    const gate = new RateGate();
    let answer!: () => void;
    const held = new Promise<void>((resolve) => (answer = resolve));
    // Three requests in flight; the first answer says 2 remain: the other two may take them.
    const inFlight = [
      gate.run(() => held),
      gate.run(() => held),
      gate.run(async () => gate.observe({ 'x-ratelimit-remaining': '2', 'x-ratelimit-reset': reset(150) })),
    ];
    await inFlight[2];
    const started = Date.now();
    await gate.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    answer();
    await Promise.all(inFlight);
  });

  it('records the limit a provider announces, and only a positive number', () => {
    const gate = new RateGate();
    for (const limit of ['many', '0', '-5']) gate.observe({ 'x-ratelimit-limit': limit });
    expect(gate.stats.announcedLimit).toBeUndefined();
    gate.observe({ 'x-ratelimit-limit': '100' });
    expect(gate.stats.announcedLimit).toBe(100);
  });

  it('holds requests until an exhausted window resets, even when an answer from another window says some are left', async () => {
    const gate = new RateGate();
    gate.observe({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset(150) });
    gate.observe({ 'x-ratelimit-remaining': '5', 'x-ratelimit-reset': reset(5000) });
    expect(await gate.acquire()).toBeGreaterThanOrEqual(100);
  });

  it('no longer counts the requests that were answered', async () => {
    const gate = new RateGate();
    await Promise.all([gate.run(async () => 1), gate.run(async () => 2), gate.run(async () => 3)]);
    gate.observe({ 'x-ratelimit-remaining': '2', 'x-ratelimit-reset': reset(150) });
    expect(await gate.acquire()).toBe(0);
    expect(await gate.acquire()).toBe(0);
  });

  it('lets requests go again once the window it waited for has turned', async () => {
    const gate = new RateGate();
    gate.observe({ 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': reset(100) });
    expect(await gate.acquire()).toBe(0);
    expect(await gate.acquire()).toBeGreaterThanOrEqual(50);
    expect(await gate.acquire()).toBe(0);
  });

  it('keeps the lower count when an older answer arrives after a newer one in the same window', async () => {
    const gate = new RateGate();
    const until = reset(150);
    gate.observe({ 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': until });
    gate.observe({ 'x-ratelimit-remaining': '5', 'x-ratelimit-reset': until }); // sent earlier, answered later
    expect(await gate.acquire()).toBe(0);
    expect(await gate.acquire()).toBeGreaterThanOrEqual(100);
  });

  it('starts afresh when an answer names a new window', async () => {
    const gate = new RateGate(() => NOW);
    gate.observe({ 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': String((NOW + 60_000) / 1000) });
    expect(await gate.acquire()).toBe(0); // the last request of that window
    gate.observe({ 'x-ratelimit-remaining': '99', 'x-ratelimit-reset': String((NOW + 120_000) / 1000) });
    const next = await Promise.race([gate.acquire(), new Promise((resolve) => setTimeout(() => resolve('held'), 50))]);
    expect(next).toBe(0);
  });

  it('runs no more than its concurrency at once, and one at a time at 1', async () => {
    const gate = new RateGate();
    for (const limit of [1, 3]) {
      gate.limitInFlight(limit);
      let running = 0;
      let most = 0;
      await Promise.all(
        Array.from({ length: 8 }, () =>
          gate.run(async () => {
            most = Math.max(most, ++running);
            await new Promise((resolve) => setTimeout(resolve, 5));
            running -= 1;
          }),
        ),
      );
      expect(most).toBe(limit);
    }
  });
});

describe("a gate sharing its credential's budget with other processes", () => {
  function fakeShared(waits: number[]) {
    const calls = { takes: 0, observed: [] as [number, number][], paused: [] as number[] };
    const shared = {
      take: async () => {
        calls.takes += 1;
        return waits.shift() ?? 0;
      },
      observe: async (left: number, resetAt: number) => void calls.observed.push([left, resetAt]),
      pause: async (ms: number) => void calls.paused.push(ms),
    };
    return { shared, calls };
  }

  it('waits as long as the shared budget says, then asks again before sending', async () => {
    const { shared, calls } = fakeShared([30, 20, 0]);
    const gate = new RateGate();
    gate.share(shared);
    const waited = await gate.acquire();
    expect(calls.takes).toBe(3);
    expect(waited).toBe(50);
    expect(gate.stats.requests).toBe(1);
  });

  it('tells the shared budget what each answer left (less its own requests in flight) and every 429 pause', () => {
    const { shared, calls } = fakeShared([]);
    const gate = new RateGate(() => NOW);
    gate.share(shared);
    gate.observe({ 'x-ratelimit-remaining': '7', 'x-ratelimit-reset': String((NOW + 4000) / 1000) });
    gate.observe({ 'x-ratelimit-limit': '100', 'x-ratelimit-reset': String((NOW + 4000) / 1000) }); // says nothing of what is left
    expect(calls.observed).toEqual([[7, NOW + 4000]]);
    gate.pause(1500);
    expect(calls.paused).toEqual([1500]);
  });

  it('keeps the first failure to report when it is telling the shared budget an answer that fails', async () => {
    const gate = new RateGate();
    const down = new Error('Redis is away');
    gate.share({ take: async () => 0, observe: () => Promise.reject(down), pause: async () => undefined });
    gate.observe({ 'x-ratelimit-remaining': '7', 'x-ratelimit-reset': '4' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(gate.sharedError).toBe(down);
  });

  it('keeps the failure of telling the shared budget a pause', async () => {
    const gate = new RateGate();
    const down = new Error('Redis is away');
    gate.share({ take: async () => 0, observe: async () => undefined, pause: () => Promise.reject(down) });
    gate.pause(10);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(gate.sharedError).toBe(down);
  });

  it('goes on with its own count when the shared budget fails, keeping the first failure to report', async () => {
    const gate = new RateGate();
    const down = new Error('Redis is away');
    gate.share({
      take: () => Promise.reject(down),
      observe: () => Promise.reject(new Error('later')),
      pause: () => Promise.reject(new Error('later')),
    });
    expect(await gate.acquire()).toBe(0);
    gate.pause(10);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(gate.sharedError).toBe(down);
  });
});

describe('a gate that spreads a window across it (credport worker --spread)', () => {
  const answer = (left: number, resetAt: number) => ({
    'x-ratelimit-limit': '12',
    'x-ratelimit-remaining': String(left),
    'x-ratelimit-reset': String(resetAt / 1000),
  });

  it('holds the next request a random half to whole of an even share of what is left of the window', async () => {
    const clock = { t: 1_800_000_000_000 };
    const gate = new RateGate(() => clock.t, true);
    const reset = clock.t + 60_000;
    await gate.acquire();
    gate.observe(answer(11, reset));
    clock.t = Math.max(clock.t + 100, gate.nextSendAt); // the second request's own wait (next test) is over
    await gate.acquire();
    // 10 left after this one: an even share of what is left is a tenth of it; the next goes half to a whole share later.
    const share = (reset - clock.t) / 11;
    const gap = gate.nextSendAt - clock.t;
    expect(gap).toBeGreaterThanOrEqual(share * 0.5 - 1);
    expect(gap).toBeLessThanOrEqual(share + 1);
  });

  it('and the next request waits for that time', async () => {
    const gate = new RateGate(Date.now, true);
    await gate.acquire();
    gate.observe(answer(11, Date.now() + 600));
    await gate.acquire();
    expect(await gate.acquire()).toBeGreaterThan(0);
  });

  it("sends the request after a window's first answer a random part of an even share later, not at once", async () => {
    // A thousand syncs started together would otherwise all send their second request together.
    const clock = { t: 1_800_000_000_000 };
    const gaps: number[] = [];
    for (let i = 0; i < 20; i++) {
      const gate = new RateGate(() => clock.t, true);
      await gate.acquire();
      gate.observe(answer(11, clock.t + 60_000));
      gaps.push(gate.nextSendAt - clock.t);
    }
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(0);
    for (const gap of gaps) expect(gap).toBeLessThan(60_000 / 12);
    expect(new Set(gaps).size).toBeGreaterThan(10);
    expect(Math.max(...gaps)).toBeGreaterThan(60_000 / 12 / 4);
  });

  it('lets a window spent to its end turn a random part of a share late, so windows opened together drift apart', async () => {
    const clock = { t: 1_800_000_000_000 };
    const turns: number[] = [];
    for (let i = 0; i < 20; i++) {
      const gate = new RateGate(() => clock.t, true);
      const reset = clock.t + 60_000;
      await gate.acquire();
      gate.observe(answer(11, reset));
      gate.observe(answer(0, reset)); // the window's last request answered
      turns.push(gate.heldUntil - reset);
    }
    for (const late of turns) expect(late).toBeGreaterThanOrEqual(0);
    for (const late of turns) expect(late).toBeLessThan(60_000 / 12);
    expect(new Set(turns).size).toBeGreaterThan(10);
    expect(Math.max(...turns)).toBeGreaterThan(60_000 / 12 / 4);
    // Without spread, the window's turn is the turn.
    const plain = new RateGate(() => clock.t);
    await plain.acquire();
    plain.observe(answer(11, clock.t + 60_000));
    plain.observe(answer(0, clock.t + 60_000));
    expect(plain.heldUntil).toBe(clock.t + 60_000);
  });

  it('does not hold anything without spread (the default: a sync spends its window as fast as pages come)', async () => {
    const clock = { t: 1_800_000_000_000 };
    const gate = new RateGate(() => clock.t);
    await gate.acquire();
    gate.observe(answer(11, clock.t + 60_000));
    await gate.acquire();
    expect(gate.nextSendAt).toBe(0);
  });
});
