import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { FrontEmulator, type FrontEmulatorOptions } from '../../src/emulator/front-emulator.js';
import { CLI, type CliResult, runCli } from '../helpers/run-cli.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

// Bodies are checked against Front's own OpenAPI description, not against credport's extraction of it.
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;
const spec = JSON.parse(readFileSync(new URL('../../connectors/front/openapi.json', import.meta.url), 'utf8'));
const specAjv = addFormats(new Ajv({ strict: false, allErrors: true, formats: { binary: true } }));
specAjv.addSchema({ $id: 'https://front.spec/core', components: spec.components });
const SPEC_BODY = {
  'contacts.create': 'CreateContact',
  'accounts.create': 'Account',
  'tags.create': 'CreateTag',
  'messages.import': 'ImportMessage',
} as const;

let home: string;
let emulator: FrontEmulator | undefined;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  home = await tempHome();
  env = { CREDPORT_HOME: home, CREDPORT_HTTP_RETRIES: '0' };
});
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
  await removeHome(home);
});

const cli = (args: string[], input = ''): Promise<CliResult> => runCli(args, { env, input });
const json = (result: CliResult) => {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
};

const contact = (i: number) => ({ name: `Contact ${i}`, handles: [{ source: 'email', handle: `contact${i}@example.com` }] });
const account = (i: number) => ({ name: `Account ${i}`, external_id: `ext-${i}`, domains: [`a${i}.example.com`] });
const tag = (i: number) => ({ name: `tag-${i}`, highlight: 'blue' });
const message = (i: number) => ({
  sender: { handle: `sender${i}@example.com` },
  to: ['support@example.com'],
  body: `Hello ${i}`,
  external_id: `msg-${i}`,
  created_at: 1_767_225_600 + i,
  metadata: { is_inbound: true },
});

async function files(rows: Record<string, unknown[]>): Promise<string> {
  const dir = join(home, 'in');
  await mkdir(dir, { recursive: true });
  for (const [stream, records] of Object.entries(rows)) {
    await writeFile(join(dir, `${stream}.jsonl`), `${records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n')}\n`);
  }
  return dir;
}

async function setUp(
  rows: Record<string, unknown[]>,
  options: FrontEmulatorOptions = {},
  operations = 'contacts=contacts.create,accounts=accounts.create,tags=tags.create,messages=messages.import',
) {
  emulator = await new FrontEmulator(options).start();
  const token = [...emulator.tokens][0]!;
  const credential = json(
    await cli(['credentials', 'add', 'front', '--name', 'Front', '--base-url', emulator.url, '--secret-stdin', '--json'], token),
  ).id as string;
  const source = json(await cli(['sources', 'add', 'jsonl', '--name', 'Files', '--path', await files(rows), '--json'])).id as string;
  const destination = json(
    await cli([
      'destinations',
      'add',
      'front',
      '--name',
      'Front',
      '--credential',
      credential,
      '--operation',
      operations,
      '--param',
      'inbox_id=inb_0',
      '--json',
    ]),
  ).id as string;
  return { credential, source, destination, token };
}

const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event: string; [k: string]: unknown });
const posts = () => emulator!.writes.received;

describe('Front as a sync destination', () => {
  it("creates contacts, accounts, tags and imported messages with the Bearer header, every body valid against Front's spec", async () => {
    const n = 30;
    const { source, destination } = await setUp({
      contacts: Array.from({ length: n }, (_, i) => contact(i)),
      accounts: Array.from({ length: n }, (_, i) => account(i)),
      tags: Array.from({ length: n }, (_, i) => tag(i)),
      messages: Array.from({ length: n }, (_, i) => message(i)),
    });
    const result = await cli(['sync', source, '--to', destination, '--json']);
    expect(result.code).toBe(0);
    expect(events(result.stdout).at(-1)).toMatchObject({ event: 'finished', summary: { records: 4 * n, sent: 4 * n, rejected: 0 } });
    const w = emulator!.writes;
    expect([w.contacts.size, w.accounts.size, w.tags.size, w.messages.size]).toEqual([n, n, n, n]);
    expect(emulator!.stats.unauthorized).toBe(0); // every write carried the Bearer token the emulator accepts
    for (const received of posts()) {
      const validate = specAjv.getSchema(`https://front.spec/core#/components/schemas/${SPEC_BODY[received.operation]}`)!;
      expect({ operation: received.operation, valid: validate(received.body), errors: validate.errors ?? null }).toEqual({
        operation: received.operation,
        valid: true,
        errors: null,
      });
    }
    expect(new Set(posts().map((p) => p.path))).toEqual(new Set(['/contacts', '/accounts', '/tags', '/inboxes/inb_0/imported_messages']));
  });

  it('sends nothing when a finished sync runs again', async () => {
    const { source, destination } = await setUp(
      { contacts: Array.from({ length: 25 }, (_, i) => contact(i)), tags: [tag(1), tag(2)] },
      {},
      'contacts=contacts.create,tags=tags.create',
    );
    expect((await cli(['sync', source, '--to', destination])).code).toBe(0);
    const requests = emulator!.requests;
    const again = await cli(['sync', source, '--to', destination, '--json']);
    expect(again.code).toBe(0);
    expect(emulator!.requests).toBe(requests);
    expect(events(again.stdout).at(-1)).toMatchObject({ summary: { sent: 0, skipped: 27, rejected: 0 } });
  });

  it("keeps bad rows in a rejects file naming each row's problem, while the good rows land", async () => {
    const { source, destination } = await setUp(
      {
        contacts: [
          contact(1),
          { name: 'No handles' },
          { name: 42, handles: [{ source: 'email', handle: 'typed@example.com' }] },
          { ...contact(4), colour: 'red' },
          '{ this is not json',
          contact(6),
        ],
      },
      {},
      'contacts=contacts.create',
    );
    const result = await cli(['sync', source, '--to', destination, '--json']);
    expect(result.code).toBe(0);
    const summary = events(result.stdout).at(-1)!.summary as { sent: number; rejected: number; rejects: string };
    expect(summary).toMatchObject({ sent: 2, rejected: 4 });
    expect([...emulator!.writes.contacts.keys()].sort()).toEqual(['email:contact1@example.com', 'email:contact6@example.com']);
    const rejects = (await readFile(summary.rejects, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejects.sort((a, b) => a.row - b.row).map((r) => [r.row, r.field, r.reason])).toEqual([
      [2, '/handles', '/handles is required'],
      [3, '/name', '/name must be string'],
      [4, '/colour', '/colour is not a field of the request body (unknown field)'],
      [5, undefined, 'line 5 is not valid JSON'],
    ]);
    expect(posts()).toHaveLength(2); // bad rows never reached Front
  });

  it('names every problem of a bad row in its reason, the first one in `field`', async () => {
    const { source, destination } = await setUp(
      { contacts: [{ name: 42, handles: 'typed@example.com' }, contact(2)] },
      {},
      'contacts=contacts.create',
    );
    const result = await cli(['sync', source, '--to', destination, '--json']);
    expect(result.code).toBe(0);
    const summary = events(result.stdout).at(-1)!.summary as { sent: number; rejected: number; rejects: string };
    expect(summary).toMatchObject({ sent: 1, rejected: 1 });
    const [reject] = (await readFile(summary.rejects, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(reject).toMatchObject({ row: 1, field: '/name', reason: '/name must be string; /handles must be array' });
  });

  it("keeps a record Front refuses (409) with Front's answer, and goes on", async () => {
    const { source, destination } = await setUp({ tags: [tag(1), tag(1), tag(2)] }, {}, 'tags=tags.create');
    const result = await cli(['sync', source, '--to', destination, '--json']);
    expect(result.code).toBe(0);
    const summary = events(result.stdout).at(-1)!.summary as { rejects: string };
    expect(summary).toMatchObject({ sent: 2, rejected: 0, skipped: 1 }); // the same tag twice in one file is one record
    expect(emulator!.writes.tags.size).toBe(2);
  });

  it('writes each record exactly once across a kill at a random point and a rerun', async () => {
    const n = 400;
    const { source, destination } = await setUp(
      { contacts: Array.from({ length: n }, (_, i) => contact(i)), messages: Array.from({ length: n }, (_, i) => message(i)) },
      {},
      'contacts=contacts.create,messages=messages.import',
    );
    const killAfter = 50 + Math.floor(Math.random() * 600); // somewhere in contacts or messages
    const child = spawn(process.execPath, [CLI, 'sync', source, '--to', destination], {
      env: { PATH: process.env.PATH, ...env },
      stdio: 'ignore',
    });
    while (posts().length < killAfter && child.exitCode === null) await new Promise((r) => setTimeout(r, 1));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    const again = await cli(['sync', source, '--to', destination, '--json']);
    expect(again.code).toBe(0);
    const w = emulator!.writes;
    expect([w.contacts.size, w.messages.size]).toEqual([n, n]);
    // Contacts are checked with Front's alias lookup before any re-send: one POST each, never a 409.
    const contactPosts = posts().filter((p) => p.operation === 'contacts.create');
    expect(contactPosts.filter((p) => p.status === 409)).toEqual([]);
    expect(new Set(contactPosts.map((p) => JSON.stringify(p.body))).size).toBe(contactPosts.length);
  });

  it('absorbs 5xx and lost responses (the write landed, the answer did not) without a duplicate', async () => {
    const n = 60;
    const { source, destination } = await setUp(
      {
        contacts: Array.from({ length: n }, (_, i) => contact(i)),
        accounts: Array.from({ length: n }, (_, i) => account(i)),
        tags: Array.from({ length: n }, (_, i) => tag(i)),
      },
      { loseResponseEvery: 7, failEvery: 11 },
      'contacts=contacts.create,accounts=accounts.create,tags=tags.create',
    );
    const result = await cli(['sync', source, '--to', destination, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(emulator!.stats.lostResponses).toBeGreaterThan(0);
    const w = emulator!.writes;
    expect([w.contacts.size, w.accounts.size, w.tags.size]).toEqual([n, n, n]);
    expect(events(result.stdout).at(-1)).toMatchObject({ summary: { rejected: 0 } });
  });

  it("never creates a duplicate when a write's outcome is unknown and Front offers no way to check", async () => {
    // Accounts without external_id have no alias to look up: a lost answer must not lead to a second create.
    const noExternalId = Array.from({ length: 6 }, (_, i) => ({ name: `Acme ${i}` }));
    const { source, destination } = await setUp({ accounts: noExternalId }, { loseResponseEvery: 2 }, 'accounts=accounts.create');
    const result = await cli(['sync', source, '--to', destination, '--json']);
    expect(result.code).toBe(0);
    const created = posts()
      .filter((p) => p.status === 201)
      .map((p) => (p.body as { name: string }).name);
    expect(new Set(created).size).toBe(created.length);
    const summary = events(result.stdout).at(-1)!.summary as { rejected: number; rejects: string };
    expect(summary.rejected).toBe(emulator!.stats.lostResponses);
    const rejects = (await readFile(summary.rejects, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejects.every((r) => r.reason.startsWith('outcome unknown'))).toBe(true);
  });

  it('refuses a second sync into a destination while one is running', async () => {
    const { source, destination } = await setUp(
      { contacts: Array.from({ length: 800 }, (_, i) => contact(i)) },
      {},
      'contacts=contacts.create',
    );
    const first = spawn(process.execPath, [CLI, 'sync', source, '--to', destination], {
      env: { PATH: process.env.PATH, ...env },
      stdio: 'ignore',
    });
    while (posts().length < 20) await new Promise((r) => setTimeout(r, 2));
    const second = await cli(['sync', source, '--to', destination]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(
      `destination ${destination} is being written by another sync (process ${first.pid} on ${hostname()}, its lease runs until `,
    );
    expect(await new Promise((resolve) => first.on('close', resolve))).toBe(0);
    expect(emulator!.writes.contacts.size).toBe(800);
    expect(posts()).toHaveLength(800);
  });

  it('keeps rejects private (0600) and never copies a line that is not JSON into them', async () => {
    const { source, destination } = await setUp(
      { contacts: ['not json but maybe a secret-looking line', contact(1)] },
      {},
      'contacts=contacts.create',
    );
    const result = await cli(['sync', source, '--to', destination, '--json']);
    const summary = events(result.stdout).at(-1)!.summary as { rejects: string };
    const { stat } = await import('node:fs/promises');
    expect((await stat(summary.rejects)).mode & 0o777).toBe(0o600);
    const text = await readFile(summary.rejects, 'utf8');
    expect(text).not.toContain('secret-looking');
    expect(JSON.parse(text)).toMatchObject({ row: 1, reason: 'line 1 is not valid JSON', record: null });
  });

  it('refuses a path parameter that would walk up the path', async () => {
    emulator = await new FrontEmulator().start();
    const credential = json(
      await cli(
        ['credentials', 'add', 'front', '--name', 'Front', '--base-url', emulator.url, '--secret-stdin', '--json'],
        [...emulator.tokens][0]!,
      ),
    ).id;
    const result = await cli([
      'destinations',
      'add',
      'front',
      '--name',
      'x',
      '--credential',
      credential,
      '--operation',
      'messages=messages.import',
      '--param',
      'inbox_id=..',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('parameter inbox_id: ".." cannot be a path segment');
  });

  it('maps record fields to body fields with --map', async () => {
    const mapFile = join(home, 'map.json');
    await writeFile(mapFile, JSON.stringify({ contacts: { '/name': '/full_name' } }));
    emulator = await new FrontEmulator().start();
    const token = [...emulator.tokens][0]!;
    const credential = json(
      await cli(['credentials', 'add', 'front', '--name', 'Front', '--base-url', emulator.url, '--secret-stdin', '--json'], token),
    ).id;
    const dir = await files({ contacts: [{ full_name: 'Mapped Person', handles: [{ source: 'email', handle: 'mapped@example.com' }] }] });
    const source = json(await cli(['sources', 'add', 'jsonl', '--name', 'Files', '--path', dir, '--json'])).id;
    const destination = json(
      await cli([
        'destinations',
        'add',
        'front',
        '--name',
        'F',
        '--credential',
        credential,
        '--operation',
        'contacts=contacts.create',
        '--map',
        mapFile,
        '--json',
      ]),
    ).id;
    expect((await cli(['sync', source, '--to', destination])).code).toBe(0);
    expect(posts()[0]!.body).toEqual({ name: 'Mapped Person', handles: [{ source: 'email', handle: 'mapped@example.com' }] });
  });

  it('refuses a --map file whose pointers reach a prototype slot, naming the entry, and saves nothing', async () => {
    emulator = await new FrontEmulator().start();
    const credential = json(
      await cli(
        ['credentials', 'add', 'front', '--name', 'Front', '--base-url', emulator.url, '--secret-stdin', '--json'],
        [...emulator.tokens][0]!,
      ),
    ).id;
    const hostile: [string, string][] = [
      [
        '{"tags": {"/__proto__/baseUrl": "/name"}}',
        '/mapping/tags/~1__proto__~1baseUrl must be a JSON pointer (/field/sub, with ~0 for "~" and ~1 for "/") without a __proto__, constructor or prototype segment (found the segment "__proto__")',
      ],
      [
        '{"tags": {"/constructor/prototype/baseUrl": "/name"}}',
        '/mapping/tags/~1constructor~1prototype~1baseUrl must be a JSON pointer (/field/sub, with ~0 for "~" and ~1 for "/") without a __proto__, constructor or prototype segment (found the segment "constructor")',
      ],
      [
        '{"tags": {"/name": "/a/prototype"}}',
        '/mapping/tags/~1name must be a JSON pointer (/field/sub, with ~0 for "~" and ~1 for "/") without a __proto__, constructor or prototype segment (found the segment "prototype")',
      ],
      [
        '{"__proto__": {"/name": "/name"}}',
        "/mapping/__proto__ must not be __proto__, constructor or prototype (they name members of every object's prototype)",
      ],
    ];
    const mapFile = join(home, 'map.json');
    for (const [map, message] of hostile) {
      await writeFile(mapFile, map);
      const refused = await cli([
        'destinations',
        'add',
        'front',
        '--name',
        'F',
        '--credential',
        credential,
        '--operation',
        'tags=tags.create',
        '--map',
        mapFile,
      ]);
      expect([map, refused.code]).toEqual([map, 2]);
      expect(refused.stderr).toContain(message);
    }
    expect(json(await cli(['destinations', 'list', '--json']))).toEqual([]);
  });

  it('refuses a destination with an unknown operation, a missing path parameter, or a credential of another connector', async () => {
    emulator = await new FrontEmulator().start();
    const credential = json(
      await cli(
        ['credentials', 'add', 'front', '--name', 'Front', '--base-url', emulator.url, '--secret-stdin', '--json'],
        [...emulator.tokens][0]!,
      ),
    ).id;
    const unknown = await cli([
      'destinations',
      'add',
      'front',
      '--name',
      'x',
      '--credential',
      credential,
      '--operation',
      'contacts=contacts.delete',
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown operation "contacts.delete"');
    const noInbox = await cli([
      'destinations',
      'add',
      'front',
      '--name',
      'x',
      '--credential',
      credential,
      '--operation',
      'messages=messages.import',
    ]);
    expect(noInbox.code).toBe(2);
    expect(noInbox.stderr).toContain('operation messages.import needs the parameter inbox_id (--param inbox_id=<value>)');
    const noOperation = await cli(['destinations', 'add', 'front', '--name', 'x', '--credential', credential]);
    expect(noOperation.code).toBe(2);
    expect(noOperation.stderr).toContain('--operation contacts=contacts.create');
  });
});
