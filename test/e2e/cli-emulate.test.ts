import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from '@jest/globals';
import got from 'got';
import { CLI } from '../helpers/run-cli.js';

let child: ChildProcess | undefined;
afterEach(() => {
  // A failed assertion must not leave an emulator running (jest would wait for it forever).
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

async function emulate(
  args: string[],
  connector = 'front',
): Promise<{ url: string; tokens: string[]; keys: Record<string, string>; clientId: string; secret: string }> {
  child = spawn(process.execPath, [CLI, 'emulate', connector, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const first = await new Promise<string>((resolve) => child!.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
  return JSON.parse(first);
}

describe('credport emulate front', () => {
  it('serves GET /me for its tokens and the _error envelope for others, until interrupted', async () => {
    const { url, tokens } = await emulate(['--token', 'emu_test_token_1']);
    expect(tokens).toEqual(['emu_test_token_1']);
    const me = await got(`${url}/me`, { headers: { authorization: 'Bearer emu_test_token_1' } }).json<Record<string, unknown>>();
    expect(me).toMatchObject({ id: 'cmp_emu1', name: 'Emulated Paper Company' });
    const refused = await got(`${url}/me`, { headers: { authorization: 'Bearer nope' }, throwHttpErrors: false });
    expect(refused.statusCode).toBe(401);
    expect(JSON.parse(refused.body)).toEqual({
      _error: { status: 401, title: 'Unauthenticated', message: 'Invalid or missing API token' },
    });
    expect(Number(refused.headers['x-ratelimit-remaining'])).toBeGreaterThan(0);
    const exited = new Promise<number | null>((resolve) => child!.on('close', resolve));
    child!.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('pages its lists like Front and answers 429 past --rate-limit', async () => {
    const { url, tokens } = await emulate(['--records', '120', '--rate-limit', '3']);
    const headers = { authorization: `Bearer ${tokens[0]}` };
    const page = await got(`${url}/contacts?limit=100`, { headers }).json<{ _results: unknown[]; _pagination: { next: string | null } }>();
    expect(page._results).toHaveLength(100);
    const last = await got(page._pagination.next!, { headers }).json<{ _results: unknown[]; _pagination: { next: string | null } }>();
    expect(last._results).toHaveLength(20);
    expect(last._pagination.next).toBeNull();
    await got(`${url}/me`, { headers });
    const limited = await got(`${url}/me`, { headers, throwHttpErrors: false, retry: { limit: 0 } });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('credport emulate front, per token and slow', () => {
  it('--rate-limit-per-token gives each token its own window; --latency-ms delays list pages', async () => {
    const { url } = await emulate([
      '--token',
      'emu_tok_a',
      'emu_tok_b',
      '--rate-limit',
      '1',
      '--rate-limit-per-token',
      '--latency-ms',
      '200',
    ]);
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    const started = Date.now();
    expect((await got(`${url}/contacts`, { headers: as('emu_tok_a') })).statusCode).toBe(200);
    // A lower bound only: the page waited for --latency-ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    const limited = await got(`${url}/me`, { headers: as('emu_tok_a'), throwHttpErrors: false, retry: { limit: 0 } });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await got(`${url}/me`, { headers: as('emu_tok_b') })).statusCode).toBe(200);
  });
});

describe('credport emulate frontline and frontegg', () => {
  it('frontline: a GENERAL and a USER key, told apart by /me', async () => {
    const { url, keys } = await emulate([], 'frontline');
    const me = (key: string) =>
      got(`${url}/me`, { headers: { authorization: `Bearer ${key}` } }).json<{ ok: boolean; data: { user: unknown } }>();
    expect((await me(keys.GENERAL!)).data.user).toBeNull();
    expect((await me(keys.USER!)).data.user).toMatchObject({ email: 'pat@example.com' });
    const refused = await got(`${url}/me`, { headers: { authorization: 'Bearer nope' }, throwHttpErrors: false });
    expect(JSON.parse(refused.body)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
  });

  it('frontegg: exchanges the Client ID and Secret Key for an access token the API takes', async () => {
    const { url, clientId, secret } = await emulate([], 'frontegg');
    const token = await got
      .post(`${url}/identity/resources/auth/v2/api-token`, { json: { clientId, secret } })
      .json<{ access_token: string; expires_in: number }>();
    expect(token.expires_in).toBeGreaterThan(0);
    const users = await got(`${url}/identity/resources/users/v3`, { headers: { authorization: `Bearer ${token.access_token}` } }).json<{
      items: unknown[];
    }>();
    expect(users.items.length).toBeGreaterThan(0);
  });
});
