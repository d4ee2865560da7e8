import { describe, expect, it } from '@jest/globals';
import { type ErrorDetails, ExitCode } from '../../src/errors.js';
import { MAX_OUTAGE_DELAY_MS, nextTry, OTHER_TRIES } from '../../src/queue/retry-plan.js';

const RETRY_FOR = 15 * 60_000;
const storeAway: ErrorDetails = {
  code: 'store_unavailable',
  message: 'store postgresql://credport:***@db/credport cannot be used: connect ECONNREFUSED',
  exitCode: ExitCode.store,
};
const queueAway: ErrorDetails = { code: 'queue_unavailable', message: 'the queue cannot be read', exitCode: ExitCode.store };

/** Plays a run of failed tries of one kind, one after another as the delays say, from `start`. */
function play(details: ErrorDetails, tries: number, retryForMs = RETRY_FOR, start = 1_000_000) {
  let now = start;
  let history = {};
  const delays: number[] = [];
  for (let i = 0; i < tries; i++) {
    const decision = nextTry(details, history, retryForMs, now);
    if (!decision.again) return { delays, final: decision.details, at: now - start };
    delays.push(decision.delayMs);
    history = decision.history;
    now += decision.delayMs;
  }
  return { delays, history };
}

describe('when a failed sync is tried again', () => {
  it('an outage of the store or the queue backs off 5, 10, 20, 40 s, then once a minute', () => {
    for (const away of [storeAway, queueAway])
      expect(play(away, 8).delays).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000, 60_000]);
    expect(MAX_OUTAGE_DELAY_MS).toBe(60_000);
  });

  it('an outage is waited out for CREDPORT_RETRY_FOR from its first failure, then fails saying how long and what to run', () => {
    const run = play(storeAway, 100);
    // Tried up to the bound: the last wait ends exactly at it, and the next failure is final.
    expect(run.at).toBe(RETRY_FOR);
    expect(run.delays.reduce((a, b) => a + b, 0)).toBe(RETRY_FOR);
    expect(run.final).toEqual({
      ...storeAway,
      message: `${storeAway.message}; tried again for 15 min (CREDPORT_RETRY_FOR is 15 min): once it is back, run credport sync --retry-failed`,
    });
  });

  it('a short CREDPORT_RETRY_FOR cuts the last wait to what is left of it', () => {
    const run = play(queueAway, 100, 12_000);
    expect(run.delays).toEqual([5_000, 7_000]);
    expect(run.final!.message).toContain('tried again for 12 s (CREDPORT_RETRY_FOR is 12 s)');
  });

  it('says the time in the unit an operator set it in: seconds, minutes to a tenth, whole hours', () => {
    const said = (retryForMs: number, lastedMs: number) => {
      const decision = nextTry(storeAway, { outageSince: 0, outages: 9 }, retryForMs, lastedMs);
      return decision.again ? 'again' : decision.details.message.slice(storeAway.message.length);
    };
    expect(said(2 * 3_600_000, 2 * 3_600_000)).toBe(
      '; tried again for 2 h (CREDPORT_RETRY_FOR is 2 h): once it is back, run credport sync --retry-failed',
    );
    expect(said(3_600_000, 3_630_000)).toContain('tried again for 60.5 min (CREDPORT_RETRY_FOR is 1 h)');
    expect(said(60_000, 60_000)).toContain('tried again for 1 min (CREDPORT_RETRY_FOR is 1 min)');
    expect(said(59_000, 59_400)).toContain('tried again for 59.4 s (CREDPORT_RETRY_FOR is 59 s)');
    expect(said(90_000, 89_999)).toBe('again');
  });

  it('counts the outage from its first failure, whichever worker saw it (the history rides with the job)', () => {
    const first = nextTry(storeAway, {}, RETRY_FOR, 0);
    expect(first).toEqual({ again: true, delayMs: 5_000, history: { outageSince: 0, outages: 1 } });
    // Fourteen minutes later, on another worker: only what is left of the bound.
    expect(nextTry(storeAway, { outageSince: 0, outages: 20 }, RETRY_FOR, 14 * 60_000 + 30_000)).toEqual({
      again: true,
      delayMs: 30_000,
      history: { outageSince: 0, outages: 21 },
    });
    expect(nextTry(storeAway, { outageSince: 0, outages: 21 }, RETRY_FOR, 15 * 60_000)).toMatchObject({ again: false });
  });

  it('a destination still leased, a lost race or a provider away gets five tries, 5 to 40 s apart', () => {
    for (const details of <ErrorDetails[]>[
      { code: 'destination_busy', message: 'busy', exitCode: ExitCode.store },
      { code: 'write_conflict', message: 'raced', exitCode: ExitCode.store },
      { code: 'lease_lost', message: 'lost', exitCode: ExitCode.store },
      { code: 'provider_unreachable', message: 'away', exitCode: ExitCode.providerUnavailable },
    ]) {
      const run = play(details, 10);
      expect(run.delays).toEqual([5_000, 10_000, 20_000, 40_000]);
      expect(run.final).toEqual(details); // said as it was
    }
    expect(OTHER_TRIES).toBe(5);
  });

  it('a passing failure ends an outage: the next outage is timed from its own start', () => {
    const after = nextTry(
      { code: 'destination_busy', message: 'busy', exitCode: ExitCode.store },
      { outageSince: 0, outages: 30 },
      RETRY_FOR,
      20 * 60_000,
    );
    expect(after).toEqual({ again: true, delayMs: 5_000, history: { others: 1 } });
  });

  it('fails at once what another try cannot mend: bad input, a refused key, a refused origin, a cancel, a bug', () => {
    for (const details of <ErrorDetails[]>[
      { code: 'invalid_input', message: 'no stream nope', exitCode: ExitCode.badInput },
      { code: 'provider_rejected', message: '401', exitCode: ExitCode.providerRejected },
      { code: 'origin_refused', message: 'not allowed', exitCode: ExitCode.providerUnavailable },
      { code: 'sync_cancelled', message: 'cancelled', exitCode: ExitCode.cancelled },
      { code: 'internal', message: 'internal error', exitCode: ExitCode.internal },
    ]) {
      expect(nextTry(details, { outageSince: 0, outages: 2, others: 1 }, RETRY_FOR, 1)).toEqual({ again: false, details });
    }
  });
});
