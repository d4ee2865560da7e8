import { describe, expect, it } from '@jest/globals';
import { gateFor, RateGate, retryAfterMs } from '../../src/http/rate-gate.js';

const NOW = 1_800_000_000_000;

describe('x-ratelimit-reset, in whichever unit it comes', () => {
  it.each([
    ['UNIX seconds, as Front sends', String((NOW + 4000) / 1000), 4000],
    ['UNIX milliseconds', String(NOW + 4000), 4000],
    ['seconds from now', '4', 4000],
    ['the first of repeated headers', ['3', '9'], 3000],
  ])('reads %s', (_what, reset, expected) => {
    expect(retryAfterMs({ 'x-ratelimit-reset': reset }, {}, NOW)).toBe(expected);
  });

  it('falls back to one second when reset is not a number', () => {
    expect(retryAfterMs({ 'x-ratelimit-reset': 'soon' }, {}, NOW)).toBe(1000);
  });

  it('takes retry-after over reset, and ignores a blank retry-after', () => {
    expect(retryAfterMs({ 'retry-after': '2', 'x-ratelimit-reset': '9' }, {}, NOW)).toBe(2000);
    expect(retryAfterMs({ 'retry-after': '  ', 'x-ratelimit-reset': '9' }, {}, NOW)).toBe(9000);
    expect(retryAfterMs({ 'retry-after': ['3', '7'] }, {}, NOW)).toBe(3000);
  });

  it('ignores a retry-after that is neither a number nor a date', () => {
    expect(retryAfterMs({ 'retry-after': 'soon' }, {}, NOW)).toBe(1000);
    expect(retryAfterMs({ 'retry-after': 'soon', 'x-ratelimit-reset': '6' }, {}, NOW)).toBe(6000);
  });

  it('reads milliseconds from a body given as text, and 120 as seconds', () => {
    expect(retryAfterMs({ 'retry-after': '341' }, 'Please retry in 341 Milliseconds', NOW)).toBe(341);
    expect(retryAfterMs({ 'retry-after': '120' }, {}, NOW)).toBe(120_000);
    expect(retryAfterMs({ 'retry-after': '2' }, undefined, NOW)).toBe(2000);
  });
});

describe('the gate and x-ratelimit-remaining', () => {
  it('holds every request until the reset once remaining is 0, by its own clock', async () => {
    let now = NOW;
    const gate = new RateGate(() => now);
    gate.observe({ 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '30' });
    expect(await gate.acquire()).toBe(0);
    gate.observe({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String((NOW + 30_000) / 1000) });
    now = NOW + 30_000; // the reset has come
    expect(await gate.acquire()).toBe(0);
  });

  it('waits no longer than the reset says', async () => {
    const gate = new RateGate();
    gate.observe({ 'x-ratelimit-remaining': ['0'], 'x-ratelimit-reset': '0.08' });
    const started = Date.now();
    const waited = await gate.acquire();
    expect(waited).toBeGreaterThanOrEqual(60);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('ignores answers without the headers, or with a reset it cannot read', async () => {
    const gate = new RateGate();
    gate.observe({});
    gate.observe({ 'x-ratelimit-remaining': 'many' });
    gate.observe({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': 'later' });
    expect(await gate.acquire()).toBe(0);
  });

  it('keeps the later of two pauses', async () => {
    let now = NOW;
    const gate = new RateGate(() => now);
    gate.pause(5000);
    gate.pause(1000);
    now = NOW + 4000;
    const pending = gate.acquire();
    now = NOW + 5000;
    expect(await pending).toBeGreaterThanOrEqual(1000);
  });

  it('is one per credential, shared by every client of it', () => {
    expect(gateFor('cred_gate_a')).toBe(gateFor('cred_gate_a'));
    expect(gateFor('cred_gate_a')).not.toBe(gateFor('cred_gate_b'));
  });
});
