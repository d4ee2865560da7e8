import { afterEach, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';

// The emulator's test options (a status sequence, a request log) stand in for the hand-made
// servers tests used to write: if they drifted, those tests would check nothing.
let emulator: FrontEmulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

const get = async (path: string, token?: string) => {
  const response = await fetch(`${emulator!.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Record<string, unknown>,
  };
};

describe("the Front emulator's firstAnswers", () => {
  it('answers the first requests with the scripted statuses, in order, in Front’s error envelope, then as usual', async () => {
    const firstAnswers = [
      { status: 429, message: 'Please retry in 500 milliseconds.', headers: { 'retry-after': '500' } },
      { status: 503 },
    ];
    emulator = await new FrontEmulator({ tokens: ['tok_script_1'], firstAnswers }).start();
    const first = await get('/me', 'tok_script_1');
    expect(first).toEqual({
      status: 429,
      retryAfter: '500',
      body: { _error: { status: 429, title: 'Too Many Requests', message: 'Please retry in 500 milliseconds.' } },
    });
    const second = await get('/me', 'tok_script_1');
    expect(second).toMatchObject({
      status: 503,
      retryAfter: null,
      body: { _error: { status: 503, title: 'Service Unavailable', message: 'Service Unavailable' } },
    });
    expect(await get('/me', 'tok_script_1')).toMatchObject({ status: 200, body: { id: 'cmp_emu1' } });
    expect(await get('/me', 'tok_script_1')).toMatchObject({ status: 200 });
  });
});

describe("the Front emulator's request log", () => {
  it('keeps every request as it arrived (method, path and query, authorization, time), refused ones too, with recordRequests', async () => {
    emulator = await new FrontEmulator({ tokens: ['tok_log_1'], recordRequests: true }).start();
    const before = Date.now();
    await get('/contacts?limit=2', 'tok_log_1');
    await get('/me');
    expect(emulator.seen).toEqual([
      { method: 'GET', path: '/contacts?limit=2', authorization: 'Bearer tok_log_1', at: expect.any(Number) },
      { method: 'GET', path: '/me', authorization: undefined, at: expect.any(Number) },
    ]);
    expect(emulator.seen[0]!.at).toBeGreaterThanOrEqual(before);
    expect(emulator.seen[1]!.at).toBeLessThanOrEqual(Date.now());
  });

  it('keeps nothing without it: `credport emulate` may run for days', async () => {
    emulator = await new FrontEmulator({ tokens: ['tok_log_2'] }).start();
    await get('/me', 'tok_log_2');
    expect(emulator.seen).toEqual([]);
  });
});
