import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openKeyv } from '../../src/store/open-keyv.js';
import { resolveStoreLocation } from '../../src/store/store-location.js';
import { CLI } from '../helpers/run-cli.js';
import { fakeToken, removeHome, tempHome } from '../helpers/temp-home.js';

/**
 * Issue 21: names reached the operator's terminal raw, so a tenant's source name could retitle the
 * terminal, clear the screen or show fake text. The CLI refuses such text naming the field, and
 * prints what an older release may already have stored with no control, bidi or invisible character.
 */
let home: string;
let env: NodeJS.ProcessEnv;
const homes: string[] = [];

/** A new store for a describe block; every one is removed at the end. */
async function newHome(): Promise<void> {
  home = await tempHome();
  homes.push(home);
  env = { CREDPORT_HOME: home };
}

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** The CLI spawned as a user runs it, its output kept as bytes: what reaches the terminal. */
function run(args: string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
    child.stdin.end(input);
  });
}

/** Every byte a terminal would act on, or a character that hides or reorders text, found in `bytes`. */
function unsafeIn(bytes: Buffer): string[] {
  const found: string[] = [];
  // C0 controls and DEL as raw bytes (a line feed ends a line; nothing else may be there).
  bytes.forEach((byte, at) => {
    if ((byte < 0x20 && byte !== 0x0a) || byte === 0x7f) found.push(`byte 0x${byte.toString(16)} at ${at}`);
  });
  // C1 controls (C2 80-C2 9F in UTF-8), bidi marks and invisible characters, as characters.
  for (const char of bytes
    .toString('utf8')
    .match(/[\u0080-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/g) ?? []) {
    found.push(`U+${char.codePointAt(0)!.toString(16).padStart(4, '0')}`);
  }
  return found;
}

const HOSTILE: Record<string, string> = {
  'ESC (retitles the terminal)': 'prod\u001b]0;owned\u0007',
  'C1 CSI (clears the screen)': 'prod\u009b2J',
  'bidi override (shows fake text)': 'invoice\u202Egpj.exe',
  'zero-width space (a look-alike)': 'pro\u200Bduction',
};

afterAll(async () => {
  for (const made of homes) await removeHome(made);
});

describe('hostile text given to the CLI', () => {
  let folder: string;
  let credential: string;

  beforeAll(async () => {
    await newHome();
    folder = join(home, 'in');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'contacts.jsonl'), '{"id":1}\n');
    const added = await run(['credentials', 'add', 'front', '--name', 'Front', '--no-verify', '--secret-stdin', '--json'], fakeToken());
    expect(added.code).toBe(0);
    credential = JSON.parse(added.stdout.toString()).id;
  });

  const attacks = (bad: string): [string, string[], string][] => [
    ['a source name', ['sources', 'add', 'jsonl', '--name', bad, '--path', folder], 'name'],
    ['a JSONL path', ['sources', 'add', 'jsonl', '--name', 'S', '--path', join(folder, bad)], 'path'],
    ['a stream', ['sources', 'add', 'jsonl', '--name', 'S', '--path', folder, '--streams', `contacts${bad}`], '/streams/0'],
    ['a destination name', ['destinations', 'add', 'jsonl', '--name', bad], 'name'],
    ['a destination path', ['destinations', 'add', 'jsonl', '--name', 'D', '--path', join(folder, bad)], 'path'],
    [
      'an operations key',
      ['destinations', 'add', 'front', '--name', 'D', '--credential', credential, '--operation', `contacts${bad}=contacts.create`],
      'operations',
    ],
    ['a token name', ['tokens', 'create', '--name', bad, '--role', 'viewer'], 'name'],
  ];

  for (const [kind, bad] of Object.entries(HOSTILE)) {
    it(`refuses ${kind} in every name, path and stream key: exit 2, the field named, nothing saved`, async () => {
      for (const [what, args, field] of attacks(bad)) {
        const refused = await run([...args, '--json']);
        expect([what, refused.code]).toEqual([what, 2]);
        expect([what, JSON.parse(refused.stdout.toString()).error]).toEqual([
          what,
          expect.objectContaining({ code: 'invalid_input', field }),
        ]);
        const said = refused.stderr.toString();
        expect([what, said]).toEqual([
          what,
          expect.stringMatching(
            new RegExp(
              `^credport: ${field === 'operations' ? 'operations keys' : field} must not contain control characters.* \\(found U\\+[0-9A-F]{4}\\)\\n$`,
            ),
          ),
        ]);
        // The message names the character by its code point; it never prints it.
        expect([what, unsafeIn(refused.stderr), unsafeIn(refused.stdout)]).toEqual([what, [], []]);
      }
      for (const list of [
        ['sources', 'list'],
        ['destinations', 'list'],
        ['tokens', 'list'],
      ]) {
        expect([list.join(' '), (await run([...list, '--json'])).stdout.toString()]).toEqual([list.join(' '), '[]\n']);
      }
    });
  }

  it('takes ordinary Unicode names', async () => {
    const name = 'Café 東京 🚀';
    const saved = await run(['sources', 'add', 'jsonl', '--name', name, '--path', folder, '--json']);
    expect(saved.code).toBe(0);
    expect(JSON.parse(saved.stdout.toString()).name).toBe(name);
    expect((await run(['sources', 'list'])).stdout.toString()).toContain(name);
  });
});

describe('hostile text an older release stored, printed by the CLI', () => {
  // One of each, and a run of invisible characters (a zero-width run must not shift the columns after it).
  const bad = `evil\u001b]0;owned\u0007\u009b2J\u202Egpj.exe\u200B\u200B\u200B\u2066end`;
  const ids = { source: 'src_0123456789abcdef0123', destination: 'dst_0123456789abcdef0123', credential: '' };
  const path = join('/tmp', `in${bad}`);

  beforeAll(async () => {
    await newHome();
    const added = await run(['credentials', 'add', 'front', '--name', 'Fine', '--no-verify', '--secret-stdin', '--json'], fakeToken());
    expect(added.code).toBe(0);
    ids.credential = JSON.parse(added.stdout.toString()).id;
    // Written straight into the store, as a release without the text rule would have saved them.
    const opened = await openKeyv(resolveStoreLocation({ home, env: {} }).uri);
    try {
      const createdAt = '2026-01-01T00:00:00.000Z';
      await opened.keyv.set(`source:${ids.source}`, {
        id: ids.source,
        name: bad,
        connector: 'jsonl',
        path,
        streams: [`contacts${bad}`, 'tags'],
        createdAt,
      });
      await opened.keyv.set(`destination:${ids.destination}`, {
        id: ids.destination,
        name: bad,
        connector: 'front',
        credentialId: ids.credential,
        operations: { [`contacts${bad}`]: 'contacts.create' },
        params: { inbox_id: bad },
        createdAt,
      });
      await opened.keyv.set(`token:${'a'.repeat(64)}`, {
        id: 'tok_0123456789abcdef',
        name: bad,
        workspace: 'default',
        role: 'viewer',
        createdAt,
        createdBy: `cli:${bad}`,
      });
      await opened.keyv.set('audit:evt_1767225600000_0123456789ab', {
        id: 'evt_1767225600000_0123456789ab',
        at: createdAt,
        actor: `cli:${bad}`,
        action: 'credential.verification_failed',
        outcome: 'refused',
        credentialId: ids.credential,
        connector: 'front',
        detail: `the provider said: ${bad}`,
      });
      const record = (await opened.keyv.get(`credential:${ids.credential}`)) as Record<string, unknown>;
      expect(record.id).toBe(ids.credential);
      await opened.keyv.set(`credential:${ids.credential}`, {
        ...record,
        name: bad,
        description: `line one${bad}\nline two`,
        identity: { name: bad, id: 'tea_1' },
      });
    } finally {
      await opened.close();
    }
  });

  const commands = (): [string, string[]][] => [
    ['sources list', ['sources', 'list']],
    ['sources show', ['sources', 'show', ids.source]],
    ['destinations list', ['destinations', 'list']],
    ['destinations show', ['destinations', 'show', ids.destination]],
    ['tokens list', ['tokens', 'list']],
    ['credentials list', ['credentials', 'list']],
    ['credentials show', ['credentials', 'show', ids.credential]],
    ['audit', ['audit']],
    // Last: its refusal names the destination that uses it, by its stored name.
    ['credentials delete', ['credentials', 'delete', ids.credential]],
  ];

  it('prints every list and show with no control, bidi or invisible character, the rest of the name kept', async () => {
    for (const [what, args] of commands()) {
      const printed = await run(args);
      expect([what, unsafeIn(printed.stdout), unsafeIn(printed.stderr)]).toEqual([what, [], []]);
      // What is left of the name is shown: the reader sees that something is there.
      expect([what, `${printed.stdout}${printed.stderr}`]).toEqual([what, expect.stringContaining('evil ]0;owned 2J gpj.exe end')]);
    }
  });

  it('keeps the columns of a table aligned around the characters it took out', async () => {
    const lines = (await run(['sources', 'list'])).stdout.toString().trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const column = lines[0]!.indexOf('READS FROM');
    expect(lines[1]!.indexOf('/tmp/in')).toBe(column);
    const streams = lines[0]!.indexOf('STREAMS');
    expect(lines[1]!.indexOf('contacts')).toBe(streams);
  });

  it('--json: JSON escapes instead of raw characters, parsed back to what is stored', async () => {
    for (const [what, args] of commands().slice(0, 8)) {
      const printed = await run([...args, '--json']);
      expect([what, printed.code, unsafeIn(printed.stdout)]).toEqual([what, 0, []]);
      expect([what, JSON.stringify(JSON.parse(printed.stdout.toString()))]).toEqual([
        what,
        expect.stringContaining(JSON.stringify(bad).slice(1, -1)),
      ]);
    }
    const refused = await run(['credentials', 'delete', ids.credential, '--json']);
    expect([refused.code, unsafeIn(refused.stdout), unsafeIn(refused.stderr)]).toEqual([2, [], []]);
    expect(JSON.parse(refused.stdout.toString()).error.message).toContain(bad);
  });
});
