import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import KeyvSqlite from '@keyv/sqlite';
import type { CredentialTile } from '../../src/generated/credential-tile.js';
import { FakeFront } from '../helpers/fake-front.js';
import { type CliResult, runCli } from '../helpers/run-cli.js';
import { allBytes, fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';

let front: FakeFront;
let home: string;
/** Every byte any CLI run printed in a test, grepped for tokens at the end of it. */
let printed: string[];
let tokens: string[];

beforeAll(async () => (front = await FakeFront.start()));
afterAll(() => front.close());
beforeEach(async () => {
  home = await tempHome();
  printed = [];
  tokens = [];
  front.mode = 'ok';
  front.tokens.clear();
  front.seen.length = 0;
});
afterEach(async () => {
  const everything = printed.join('\n');
  const atRest = await allBytes(home);
  for (const token of tokens) {
    expect(everything).not.toContain(token);
    expect(atRest.includes(Buffer.from(token))).toBe(false);
  }
  await removeHome(home);
});

async function cli(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const result = await runCli(args, {
    input: options.input ?? '',
    env: { CREDPORT_HOME: home, CREDPORT_HTTP_RETRIES: '0', CREDPORT_HTTP_TIMEOUT_MS: '1500', ...options.env },
  });
  printed.push(result.stdout, result.stderr);
  return result;
}

function token(label?: string): string {
  const t = fakeToken(label);
  tokens.push(t);
  return t;
}

async function add(secret: string, extra: string[] = []): Promise<CliResult> {
  return cli(['credentials', 'add', 'front', '--name', 'Support', '--base-url', front.url, '--secret-stdin', '--json', ...extra], {
    input: `${secret}\n`,
  });
}

async function tiles(): Promise<CredentialTile[]> {
  const result = await cli(['credentials', 'list', '--json']);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as CredentialTile[];
}

describe('credport credentials add', () => {
  it('verifies against /me, saves, and prints the tile with the company identity (exit 0)', async () => {
    const t = token();
    front.allow(t);
    const result = await add(t, ['--description', 'Support team']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const tile = JSON.parse(result.stdout) as CredentialTile;
    expect(tile).toMatchObject({
      connector: 'front',
      name: 'Support',
      description: 'Support team',
      status: 'verified',
      identity: { id: 'cmp_k30' },
    });
    expect(await tiles()).toEqual([tile]);
  });

  it('prints a readable tile without --json', async () => {
    const t = token();
    front.allow(t);
    const result = await cli(['credentials', 'add', 'front', '--name', 'Ops', '--base-url', front.url, '--secret-stdin'], { input: t });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('verified: Dunder Mifflin Paper Company, Inc. (cmp_k30)');
    expect(result.stdout).toContain(`secret:      ...${t.slice(-4)}`);
  });

  it('reads the secret from an environment variable named by --secret-env', async () => {
    const t = token();
    front.allow(t);
    const result = await cli(
      ['credentials', 'add', 'front', '--name', 'Env', '--base-url', front.url, '--secret-env', 'FRONT_TOKEN', '--json'],
      { env: { FRONT_TOKEN: t } },
    );
    expect(result.code).toBe(0);
    expect(front.seen.at(-1)?.authorization).toBe(`Bearer ${t}`);
  });

  it("exits 3 with Front's answer when the token is refused, and saves nothing", async () => {
    const result = await add(token());
    expect(result.code).toBe(3);
    expect(result.stderr).toBe('credport: Front rejected the credential: 401 Unauthenticated: Invalid token (GET /me)\n');
    expect(JSON.parse(result.stdout)).toEqual({
      error: {
        code: 'provider_rejected',
        message: 'Front rejected the credential: 401 Unauthenticated: Invalid token (GET /me)',
        exitCode: 3,
        status: 401,
      },
    });
    expect(await tiles()).toEqual([]);
  });

  it.each([
    ['Front fails (5xx)', 'error500', /500 Internal Server Error/],
    ['Front does not answer in time', 'hang', /did not answer GET \/me in time/],
  ] as const)('exits 4 when %s, and saves nothing', async (_what, mode, message) => {
    const t = token();
    front.allow(t);
    front.mode = mode;
    const result = await add(t);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(message);
    expect(await tiles()).toEqual([]);
  });

  it('exits 4 when Front cannot be reached', async () => {
    const result = await cli(['credentials', 'add', 'front', '--name', 'x', '--base-url', 'http://127.0.0.1:9', '--secret-stdin'], {
      input: token(),
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('could not reach Front at http://127.0.0.1:9: ECONNREFUSED');
  });

  it.each([
    [
      'an unknown connector',
      ['credentials', 'add', 'frontt', '--name', 'x', '--secret-stdin'],
      'tok_123456789',
      'unknown connector "frontt" (known: front, frontegg, frontline)',
    ],
    [
      'a missing --name',
      ['credentials', 'add', 'front', '--secret-stdin'],
      'tok_123456789',
      "required option '--name <text>' not specified",
    ],
    [
      'an empty name',
      ['credentials', 'add', 'front', '--name', '  ', '--secret-stdin'],
      'tok_123456789',
      'Credential Name (name) must not be empty',
    ],
    [
      'an over-long name',
      ['credentials', 'add', 'front', '--name', 'n'.repeat(101), '--secret-stdin'],
      'tok_123456789',
      'at most 100 characters',
    ],
    [
      'an over-long description',
      ['credentials', 'add', 'front', '--name', 'x', '--description', 'd'.repeat(1001), '--secret-stdin'],
      'tok_123456789',
      'Credential Description (description) must be at most 1000',
    ],
    [
      'a control character in the name',
      ['credentials', 'add', 'front', '--name', 'a\u001bb', '--secret-stdin'],
      'tok_123456789',
      'Credential Name (name) must not contain control',
    ],
    [
      'CR/LF inside the API key',
      ['credentials', 'add', 'front', '--name', 'x', '--secret-stdin'],
      'tok_1234\r\nX-Injected: yes',
      'API Key Value (apiKey) must not contain spaces, line breaks',
    ],
    [
      'a space in the API key',
      ['credentials', 'add', 'front', '--name', 'x', '--secret-stdin'],
      'tok 123456789',
      'API Key Value (apiKey) must not contain spaces',
    ],
    [
      'an empty API key',
      ['credentials', 'add', 'front', '--name', 'x', '--secret-stdin'],
      '',
      'API Key Value (apiKey) must be at least 8 characters',
    ],
    [
      'a plain-HTTP base URL off loopback',
      ['credentials', 'add', 'front', '--name', 'x', '--base-url', 'http://api2.frontapp.com', '--secret-stdin'],
      'tok_123456789',
      'base URL (baseUrl) must be https://',
    ],
    [
      'no secret and no terminal',
      ['credentials', 'add', 'front', '--name', 'x'],
      '',
      'no API Key Value given: pipe it with --secret-stdin',
    ],
    ['a usage error', ['credentials', 'ad', 'front'], '', "unknown command 'ad'"],
  ])('exits 2 on %s, naming it on one line, and saves nothing', async (_what, args, input, message) => {
    const result = await cli(args, { input: `${input}\n` });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(front.seen.filter((r) => r.path === '/me' && r.authorization?.includes('tok'))).toEqual([]);
    expect(await tiles()).toEqual([]);
  });

  it.each([
    ['--api-key=<token>', (t: string) => `--api-key=${t}`, "unknown option '--api-key...'"],
    ['a value with a quote in it', (t: string) => `--apiKey=ab'cd_${t}`, "unknown option '--apiKey...'"],
    ['a short option glued to it', (t: string) => `-k${t}`, "unknown option '-k...'"],
  ])('refuses a secret passed on the command line as %s without echoing it back', async (_what, arg, message) => {
    const t = token();
    const result = await cli(['credentials', 'add', 'front', '--name', 'x', arg(t)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('exits 2 when the secret is pasted into the description too, naming the field without quoting it, asking nobody and saving nothing', async () => {
    const t = token();
    front.allow(t);
    const result = await add(t, ['--description', `key is ${t}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'credport: Credential Description (description) contains the API Key Value (or part of it): public fields are stored and shown in the clear, so a secret must not go there\n',
    );
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'secret_in_public_field', exitCode: 2, field: 'description' } });
    for (let i = 0; i + 8 <= t.length; i++) expect(result.stdout + result.stderr).not.toContain(t.slice(i, i + 8));
    expect(front.seen).toEqual([]);
    expect(await tiles()).toEqual([]);
  });

  it('exits 2 when update puts the saved secret, or another JWT, into the description, and the tile stays as it was', async () => {
    const t = token();
    front.allow(t);
    const tile = JSON.parse((await add(t)).stdout) as CredentialTile;
    for (const text of [`see ${t}`, `old ${token('other')}`]) {
      const result = await cli(['credentials', 'update', tile.id, '--description', text, '--json']);
      expect(result.code).toBe(2);
      expect(JSON.parse(result.stdout)).toMatchObject({ error: { field: 'description', exitCode: 2 } });
    }
    expect(await tiles()).toEqual([tile]);
  });

  it('saves with status unverified and asks nobody with --no-verify', async () => {
    front.seen.length = 0;
    const result = await cli(['credentials', 'add', 'front', '--name', 'Later', '--no-verify', '--secret-stdin', '--json'], {
      input: token(),
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'unverified' });
    expect(front.seen).toEqual([]);
  });
});

describe('the rest of the lifecycle from the CLI', () => {
  it('lists by connector, shows, updates, tests, rotates and deletes, each with --json and its exit code', async () => {
    const oldToken = token('old');
    const newToken = token('new');
    front.allow(oldToken);
    const tile = JSON.parse((await add(oldToken)).stdout) as CredentialTile;

    expect(JSON.parse((await cli(['credentials', 'list', '--connector', 'front', '--json'])).stdout)).toEqual([tile]);
    expect((await cli(['credentials', 'list', '--connector', 'nope'])).code).toBe(2);
    expect(JSON.parse((await cli(['credentials', 'show', tile.id, '--json'])).stdout)).toEqual(tile);
    const human = await cli(['credentials', 'list']);
    expect(human.stdout).toMatch(new RegExp(`${tile.id}\\s+front\\s+Support\\s+verified`));

    const updated = await cli(['credentials', 'update', tile.id, '--name', 'Support EU', '--json']);
    expect(JSON.parse(updated.stdout)).toMatchObject({ name: 'Support EU' });
    expect((await cli(['credentials', 'update', tile.id])).code).toBe(2);

    // A refused rotation keeps the old secret working.
    const refused = await cli(['credentials', 'rotate', tile.id, '--secret-stdin', '--json'], { input: newToken });
    expect(refused.code).toBe(3);
    expect((await cli(['credentials', 'test', tile.id])).code).toBe(0);
    expect(front.seen.at(-1)?.authorization).toBe(`Bearer ${oldToken}`);

    front.allow(newToken);
    const rotated = await cli(['credentials', 'rotate', tile.id, '--secret-stdin', '--json'], { input: `${newToken}\n` });
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ secretHint: newToken.slice(-4), status: 'verified' });

    // Revoked at the provider: test exits 3 and the tile says invalid.
    front.tokens.delete(newToken);
    const revoked = await cli(['credentials', 'test', tile.id, '--json']);
    expect(revoked.code).toBe(3);
    expect(JSON.parse((await cli(['credentials', 'show', tile.id, '--json'])).stdout)).toMatchObject({ status: 'invalid' });

    expect(JSON.parse((await cli(['credentials', 'delete', tile.id, '--json'])).stdout)).toEqual({ id: tile.id, deleted: true });
    const gone = await cli(['credentials', 'show', tile.id]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toBe(`credport: no credential ${tile.id}\n`);
  });

  it('exits 5 naming a wrong master key, and leaves the store as it was', async () => {
    const key = randomMasterKey();
    const t = token();
    front.allow(t);
    const saved = await cli(['credentials', 'add', 'front', '--name', 'x', '--base-url', front.url, '--secret-stdin', '--json'], {
      input: t,
      env: { CREDPORT_MASTER_KEY: key },
    });
    expect(saved.code).toBe(0);
    const wrong = await cli(['credentials', 'list'], { env: { CREDPORT_MASTER_KEY: randomMasterKey() } });
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toMatch(
      /^credport: wrong master key: this store was created with key [0-9a-f]{16}, but CREDPORT_MASTER_KEY holds key [0-9a-f]{16}/,
    );
    const right = await cli(['credentials', 'list', '--json'], { env: { CREDPORT_MASTER_KEY: key } });
    expect(JSON.parse(right.stdout)).toEqual([JSON.parse(saved.stdout)]);
  });

  it('exits 5 naming a damaged record', async () => {
    const tile = JSON.parse(
      (await cli(['credentials', 'add', 'front', '--name', 'x', '--no-verify', '--secret-stdin', '--json'], { input: token() })).stdout,
    ) as CredentialTile;
    const adapter = new KeyvSqlite({ uri: `sqlite://${join(home, 'credport.sqlite')}`, busyTimeout: 5000 } as never);
    await adapter.query('UPDATE keyv SET value = ? WHERE key = ?', '{"value":{"v":1}}', `credport:credential:${tile.id}`);
    await adapter.disconnect();
    const result = await cli(['credentials', 'show', tile.id]);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(`credential ${tile.id} in the store is damaged`);
  });

  it('saves every one of 20 credentials added by 20 processes at once', async () => {
    const batch = Array.from({ length: 20 }, (_, i) => ({ name: `Worker ${i}`, token: token(`w${i}`) }));
    for (const b of batch) front.allow(b.token);
    const results = await Promise.all(
      batch.map((b) =>
        cli(['credentials', 'add', 'front', '--name', b.name, '--base-url', front.url, '--secret-stdin', '--json'], { input: b.token }),
      ),
    );
    for (const result of results) {
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    }
    const saved = await tiles();
    expect(saved.map((t) => t.name).sort()).toEqual(batch.map((b) => b.name).sort());
    expect(saved.every((t) => t.status === 'verified')).toBe(true);
  });
});

describe('help and connectors', () => {
  it('explains itself, with environment and exit codes', async () => {
    const result = await cli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Exit codes:');
    expect(result.stdout).toContain('CREDPORT_MASTER_KEY');
    const add = await cli(['credentials', 'add', '--help']);
    expect(add.stdout).toContain('--secret-stdin');
  });

  it('lists connectors and shows the Front form as JSON for a host to render', async () => {
    expect(JSON.parse((await cli(['connectors', '--json'])).stdout)).toEqual([
      expect.objectContaining({ id: 'front', title: 'Front', auth: 'bearer', verification: 'GET /me', secretFields: ['apiKey'] }),
      expect.objectContaining({ id: 'frontegg', title: 'Frontegg', auth: 'token-exchange', secretFields: ['secret'] }),
      expect.objectContaining({ id: 'frontline', title: 'Frontline', auth: 'bearer', verification: 'GET /me', secretFields: ['apiKey'] }),
    ]);
    const form = JSON.parse((await cli(['connectors', 'show', 'front', '--json'])).stdout);
    expect(form.form.schema.properties.apiKey).toMatchObject({ title: 'API Key Value', writeOnly: true });
    expect((await cli(['connectors', 'show', 'nope'])).code).toBe(2);
  });
});
