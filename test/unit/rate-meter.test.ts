import { describe, expect, it } from '@jest/globals';
import { RateGate } from '../../src/http/rate-gate.js';
import { rateMeter } from '../../src/sync/rate-meter.js';

const MINUTE = 60_000;

/** Sends `count` requests through the gate at `at`, each answered as Front answers in a fixed window opened at `opened`. */
async function window(gate: RateGate, clock: { t: number }, opened: number, count: number, limit = 60): Promise<void> {
  for (let i = 1; i <= count; i++) {
    clock.t = opened + i * 100;
    await gate.acquire();
    gate.observe({
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(limit - i),
      'x-ratelimit-reset': String((opened + MINUTE) / 1000),
    });
  }
}

describe('the rate a sync reports against its provider limit', () => {
  it('is counted per provider window: four full 60-request windows in 3.2 minutes are 1.0 of the limit, not 1.25', async () => {
    const clock = { t: 30_000_000 * MINUTE };
    const start = clock.t;
    const gate = new RateGate(() => clock.t);
    const rate = rateMeter(gate, MINUTE);
    for (let w = 0; w < 4; w++) await window(gate, clock, start + w * MINUTE, 60);
    clock.t = start + 3.2 * MINUTE;
    const reported = rate()!;
    expect(reported).toMatchObject({ requests: 240, limitPerMinute: 60, ofLimit: 1 });
    // The requests a minute of the run's time still say how fast it went.
    expect(reported.perMinute).toBe(75);
  });

  it('half of each window is 0.5, and a window already open when the run began counts once', async () => {
    const clock = { t: 30_001_000 * MINUTE };
    const start = clock.t;
    const gate = new RateGate(() => clock.t);
    // A verification spent one request of the first window before the run.
    await window(gate, clock, start, 1);
    const rate = rateMeter(gate, MINUTE);
    for (let w = 0; w < 3; w++) {
      const opened = start + w * MINUTE;
      for (let i = 2; i <= 31; i++) {
        clock.t = opened + i * 100;
        await gate.acquire();
        gate.observe({
          'x-ratelimit-limit': '60',
          'x-ratelimit-remaining': String(60 - i),
          'x-ratelimit-reset': String((opened + MINUTE) / 1000),
        });
      }
    }
    expect(rate()).toMatchObject({ requests: 90, ofLimit: 0.5 });
  });

  it('says nothing of a limit the provider never announced', async () => {
    const clock = { t: 30_002_000 * MINUTE };
    const gate = new RateGate(() => clock.t);
    const rate = rateMeter(gate, MINUTE);
    expect(rate()).toBeUndefined();
    await gate.acquire();
    clock.t += 30_000;
    expect(rate()).toEqual({ requests: 1, perMinute: 2 });
  });
});
