import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FrontlineEmulator, type FrontlineEmulatorOptions } from '../../src/emulator/frontline-emulator.js';
import { type CliResult, runCli } from '../helpers/run-cli.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

let home: string;
let emulator: FrontlineEmulator;
const cli = (args: string[], input = ''): Promise<CliResult> =>
  runCli(args, { env: { CREDPORT_HOME: home, CREDPORT_HTTP_RETRIES: '0' }, input });

async function start(options: FrontlineEmulatorOptions = {}): Promise<void> {
  emulator = await new FrontlineEmulator(options).start();
}
const add = (key: string, name = 'Frontline') =>
  cli(['credentials', 'add', 'frontline', '--name', name, '--base-url', emulator.url, '--secret-stdin', '--json'], key);

beforeEach(async () => (home = await tempHome()));
afterEach(async () => {
  await emulator?.stop();
  await removeHome(home);
});

describe('the Frontline connector', () => {
  it('saves a GENERAL and a USER key, each with its key type and account on the tile', async () => {
    await start();
    const general = await add(emulator.keyOfType('GENERAL'), 'General');
    const user = await add(emulator.keyOfType('USER'), 'Personal');
    expect(general.code).toBe(0);
    expect(JSON.parse(general.stdout).identity).toEqual({
      accountId: 'acc_fl1',
      accountName: 'Emulated Frontline Account',
      namespace: 'emulated',
      keyType: 'GENERAL',
    });
    expect(JSON.parse(user.stdout).identity).toEqual({
      accountId: 'acc_fl1',
      accountName: 'Emulated Frontline Account',
      namespace: 'emulated',
      keyType: 'USER',
      userId: 'usr_1',
      userEmail: 'pat@example.com',
    });
  });

  it("refuses a revoked key at verification with Frontline's own answer, saving nothing", async () => {
    await start();
    const result = await add('fl_revoked_or_unknown_key');
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      'credport: Frontline rejected the credential: 401 unauthorized: Missing, malformed, unknown or revoked API key (GET /public/v1/me)\n',
    );
    expect(JSON.parse((await cli(['credentials', 'list', '--json'])).stdout)).toEqual([]);
  });

  it('refuses a USER-only stream for a GENERAL key before any request, saying which key is needed', async () => {
    await start();
    const general = JSON.parse((await add(emulator.keyOfType('GENERAL'))).stdout).id;
    const before = emulator.requests;
    for (const stream of ['tasks', 'users']) {
      const refused = await cli(['sources', 'add', 'frontline', '--name', 'Tasks', '--credential', general, '--streams', stream]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`Frontline stream ${stream} needs a credential whose keyType is USER, but credential`);
      expect(refused.stderr).toContain('has GENERAL: use a USER (personal) API key');
    }
    expect(emulator.requests).toBe(before);
  });

  it('forgets the key type when a key is rotated without verification, so a USER-only stream is refused', async () => {
    await start();
    const id = JSON.parse((await add(emulator.keyOfType('USER'))).stdout).id;
    const rotated = await cli(['credentials', 'rotate', id, '--no-verify', '--secret-stdin', '--json'], emulator.keyOfType('GENERAL'));
    expect(JSON.parse(rotated.stdout)).not.toHaveProperty('identity');
    const refused = await cli(['sources', 'add', 'frontline', '--name', 'Tasks', '--credential', id, '--streams', 'tasks']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('has no keyType (verify it with: credport credentials test');
  });

  it('syncs the streams with a USER key, and marks the tile invalid when the key is revoked mid-sync', async () => {
    await start({ records: 1000, revokeAfter: 3 });
    const user = JSON.parse((await add(emulator.keyOfType('USER'))).stdout).id;
    const source = JSON.parse(
      (await cli(['sources', 'add', 'frontline', '--name', 'Frontline', '--credential', user, '--json'])).stdout,
    ).id;
    const destination = JSON.parse(
      (await cli(['destinations', 'add', 'jsonl', '--name', 'Files', '--path', join(home, 'out'), '--json'])).stdout,
    ).id;
    // One stream after another, so which streams land before the revocation is known.
    const result = await cli(['sync', source, '--to', destination, '--concurrency', '1']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('401 unauthorized');
    expect(result.stderr).toContain('marked invalid');
    expect(JSON.parse((await cli(['credentials', 'show', user, '--json'])).stdout).status).toBe('invalid');
    // /me, then agents and workflows landed whole before the revocation.
    for (const stream of ['agents', 'workflows']) {
      const lines = (await readFile(join(home, 'out', `${stream}.jsonl`), 'utf8')).trim().split('\n');
      expect(lines.length).toBe(1000);
    }
  });

  it('reads each of the real lists ({"results": [...]}) whole in one request, USER-only ones included for a USER key', async () => {
    await start({ records: 230 });
    const user = JSON.parse((await add(emulator.keyOfType('USER'))).stdout).id;
    const source = JSON.parse((await cli(['sources', 'add', 'frontline', '--name', 'F', '--credential', user, '--json'])).stdout);
    const streams = ['agents', 'workflows', 'tools', 'ai_models', 'tasks', 'users'];
    expect(source.streams).toEqual(streams);
    const destination = JSON.parse(
      (await cli(['destinations', 'add', 'jsonl', '--name', 'Files', '--path', join(home, 'out'), '--json'])).stdout,
    ).id;
    const result = await cli(['sync', source.id, '--to', destination, '--json']);
    expect(result.code).toBe(0);
    for (const stream of streams) {
      const ids = (await readFile(join(home, 'out', `${stream}.jsonl`), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id);
      expect(new Set(ids).size).toBe(230);
    }
    expect(emulator.stats.pages).toBe(streams.length);
  });

  it('reads the streams either key type may read with a GENERAL key', async () => {
    await start({ records: 3 });
    const general = JSON.parse((await add(emulator.keyOfType('GENERAL'))).stdout).id;
    const source = JSON.parse(
      (
        await cli([
          'sources',
          'add',
          'frontline',
          '--name',
          'F',
          '--credential',
          general,
          '--streams',
          'agents,workflows,tools,ai_models',
          '--json',
        ])
      ).stdout,
    ).id;
    const destination = JSON.parse(
      (await cli(['destinations', 'add', 'jsonl', '--name', 'Files', '--path', join(home, 'out'), '--json'])).stdout,
    ).id;
    const result = await cli(['sync', source, '--to', destination, '--json']);
    expect(result.code).toBe(0);
    expect(emulator.stats.unauthorized).toBe(0);
    const agents = (await readFile(join(home, 'out', 'agents.jsonl'), 'utf8')).trim().split('\n');
    expect(agents).toHaveLength(3);
  });
});
