import { spawn } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import got from 'got';
import { CLI } from '../helpers/run-cli.js';

describe('credport emulate front', () => {
  it('serves GET /me for its tokens and the _error envelope for others, until interrupted', async () => {
    const child = spawn(process.execPath, [CLI, 'emulate', 'front', '--token', 'emu_test_token_1', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const first = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    const { url, tokens } = JSON.parse(first) as { url: string; tokens: string[] };
    expect(tokens).toEqual(['emu_test_token_1']);
    const me = await got(`${url}/me`, { headers: { authorization: 'Bearer emu_test_token_1' } }).json<Record<string, unknown>>();
    expect(me).toMatchObject({ id: 'cmp_emu1', name: 'Emulated Paper Company' });
    const refused = await got(`${url}/me`, { headers: { authorization: 'Bearer nope' }, throwHttpErrors: false });
    expect(refused.statusCode).toBe(401);
    expect(JSON.parse(refused.body)).toEqual({ _error: { status: 401, title: 'Unauthenticated', message: 'Invalid or missing API token' } });
    expect(refused.headers['x-ratelimit-limit']).toBe('100');
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
