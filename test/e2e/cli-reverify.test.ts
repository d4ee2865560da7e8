import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { runCli } from '../helpers/run-cli.js';
import { startServe } from '../helpers/serve.js';
import { fakeToken, removeHome, tempHome } from '../helpers/temp-home.js';

let home: string;
let emulator: FrontEmulator;
const tokens = [fakeToken('a'), fakeToken('b')];
beforeEach(async () => {
  home = await tempHome();
  emulator = await new FrontEmulator({ tokens }).start();
});
afterEach(async () => {
  await emulator.stop();
  await removeHome(home);
});

async function add(token: string, name: string): Promise<string> {
  const added = await runCli(
    ['credentials', 'add', 'front', '--name', name, '--base-url', emulator.url, '--secret-stdin', '--no-verify', '--json'],
    { env: { CREDPORT_HOME: home }, input: token },
  );
  expect(added.code).toBe(0);
  return (JSON.parse(added.stdout) as { id: string }).id;
}

describe('re-verification from the CLI and the server', () => {
  it('credentials verify --stale: exit 0 when all pass, 3 with the refused one named and its tile invalid', async () => {
    const env = { CREDPORT_HOME: home, CREDPORT_HTTP_RETRIES: '0' };
    const a = await add(tokens[0]!, 'A');
    const b = await add(tokens[1]!, 'B');
    const ok = await runCli(['credentials', 'verify', '--stale', '24h'], { env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /^re-verified 2 credentials in [\d.]+ s: 2 verified, 0 refused \(now invalid\), 0 unavailable \(unchanged\); 0 not due\n$/,
    );
    emulator.tokens.delete(tokens[1]!);
    const none = await runCli(['credentials', 'verify', '--stale', '24h'], { env }); // verified just now: nothing is due
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('re-verified 0 credentials in');
    expect(none.stdout).toContain('; 2 not due');
    // Seconds are a duration like any other: neither is 90 s old yet.
    const notYet = await runCli(['credentials', 'verify', '--stale', '90s'], { env });
    expect(notYet.code).toBe(0);
    expect(notYet.stdout).toContain('; 2 not due');
    // A second later both are due with --stale 1s, and Front refuses the revoked one.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const refused = await runCli(['credentials', 'verify', '--stale', '1s'], { env });
    expect(refused.code).toBe(3);
    expect(refused.stdout).toContain(`  ${b} (front) refused: Front rejected the credential: 401`);
    const tile = JSON.parse((await runCli(['credentials', 'show', b, '--json'], { env })).stdout) as {
      status: string;
      invalidReason: string;
    };
    expect(tile).toMatchObject({ status: 'invalid', invalidReason: expect.stringContaining('401 Unauthenticated') });
    expect(JSON.parse((await runCli(['credentials', 'show', a, '--json'], { env })).stdout)).toMatchObject({ status: 'verified' });
    const bad = await runCli(['credentials', 'verify', '--stale', 'soon'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--stale must be a time ago (45s, 30m, 24h, 7d), a date (2026-11-01) or a date-time');
  }, 60_000);

  it('serve --reverify-every finds a token revoked in the provider and shows the tile invalid through the API', async () => {
    const id = await add(tokens[0]!, 'A');
    const served = await startServe({ home, args: ['--reverify-every', '1s'] });
    try {
      const token = (await import('node:fs/promises')).readFile(`${home}/api-token`, 'utf8');
      const api = async () =>
        (await (
          await fetch(`${served.url}/api/v1/credentials/${id}`, { headers: { authorization: `Bearer ${(await token).trim()}` } })
        ).json()) as { status: string; invalidReason?: string };
      while ((await api()).status !== 'verified') await new Promise((resolve) => setTimeout(resolve, 100)); // the first pass, at start
      emulator.tokens.delete(tokens[0]!);
      let tile = await api();
      for (let i = 0; i < 60 && tile.status !== 'invalid'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        tile = await api();
      }
      expect(tile).toMatchObject({ status: 'invalid', invalidReason: expect.stringContaining('401 Unauthenticated') });
      expect(served.output()).toMatch(/"event":"reverified","checked":1,"verified":0,"refused":1/);
    } finally {
      await served.stop();
    }
  }, 60_000);
});
