import { userInfo } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { runCli } from '../helpers/run-cli.js';
import { fakeToken, removeHome, tempHome } from '../helpers/temp-home.js';

let home: string;
let emulator: FrontEmulator;
const token = fakeToken('audit');
beforeEach(async () => {
  home = await tempHome();
  emulator = await new FrontEmulator({ tokens: [token] }).start();
});
afterEach(async () => {
  await emulator.stop();
  await removeHome(home);
});

describe('credport audit', () => {
  it('shows what the CLI did, as the OS user, filtered by credential and time, and refuses a bad --since by name', async () => {
    const env = { CREDPORT_HOME: home, CREDPORT_HTTP_RETRIES: '0' };
    const added = await runCli(
      ['credentials', 'add', 'front', '--name', 'Support', '--base-url', emulator.url, '--secret-stdin', '--json'],
      { env, input: `${token}\n` },
    );
    expect(added.code).toBe(0);
    const id = (JSON.parse(added.stdout) as { id: string }).id;
    const wrong = await runCli(['credentials', 'add', 'front', '--name', 'Wrong', '--base-url', emulator.url, '--secret-stdin'], {
      env,
      input: `${fakeToken('wrong')}\n`,
    });
    expect(wrong.code).toBe(3);
    expect((await runCli(['credentials', 'test', id], { env })).code).toBe(0);

    const json = await runCli(['audit', '--json'], { env });
    expect(json.code).toBe(0);
    const events = JSON.parse(json.stdout) as { action: string; actor: string; outcome: string; credentialId?: string }[];
    // The refused add left the store as it was: nothing of it in the trail either.
    expect(events.map((e) => `${e.action} ${e.outcome}`)).toEqual(['credential.created ok', 'credential.verified ok']);
    expect(new Set(events.map((e) => e.actor))).toEqual(new Set([`cli:${userInfo().username}`]));
    expect(json.stdout).not.toContain(token.slice(3, 20));

    const table = await runCli(['audit', '--credential', id, '--since', '3600s'], { env });
    expect(table.stdout.split('\n')[0]).toMatch(/^TIME\s+ACTOR\s+ACTION\s+OUTCOME\s+CREDENTIAL\s+CONNECTOR\s+DETAIL$/);
    expect(table.stdout.trim().split('\n')).toHaveLength(3); // the header and two events
    expect((await runCli(['audit', '--since', '2099-01-01'], { env })).stdout).toBe('no audit events match\n');
    const bad = await runCli(['audit', '--since', 'yesterday'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since must be a time ago (45s, 30m, 24h, 7d), a date (2026-11-01) or a date-time');
  }, 60_000);
});
