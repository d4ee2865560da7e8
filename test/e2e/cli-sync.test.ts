import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FrontEmulator, type FrontEmulatorOptions } from '../../src/emulator/front-emulator.js';
import { writeConnector } from '../helpers/connector-fixtures.js';
import { CLI, type CliResult, runCli } from '../helpers/run-cli.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

const STREAMS = ['contacts', 'conversations', 'tags', 'accounts', 'inboxes', 'teammates'];
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

async function setUp(
  options: FrontEmulatorOptions,
  streams?: string,
): Promise<{ credential: string; source: string; destination: string; path: string; token: string }> {
  emulator = await new FrontEmulator(options).start();
  const token = [...emulator.tokens][0]!;
  const added = await cli(
    ['credentials', 'add', 'front', '--name', 'Front', '--base-url', emulator.url, '--secret-stdin', '--json'],
    token,
  );
  expect(added.code).toBe(0);
  const credential = JSON.parse(added.stdout).id as string;
  const source = await cli([
    'sources',
    'add',
    'front',
    '--name',
    'Front source',
    '--credential',
    credential,
    '--json',
    ...(streams ? ['--streams', streams] : []),
  ]);
  expect(source.code).toBe(0);
  const path = join(home, 'out');
  const destination = await cli(['destinations', 'add', 'jsonl', '--name', 'Files', '--path', path, '--json']);
  expect(destination.code).toBe(0);
  return { credential, source: JSON.parse(source.stdout).id, destination: JSON.parse(destination.stdout).id, path, token };
}

/** Every record id in a stream's file, which must hold each exactly once. */
async function idsIn(path: string, stream: string): Promise<string[]> {
  const text = await readFile(join(path, `${stream}.jsonl`), 'utf8');
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { id: string }).id);
}

function expectExactlyOnce(ids: string[], count: number): void {
  expect(ids).toHaveLength(count);
  expect(new Set(ids).size).toBe(count);
}

const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event: string; [k: string]: unknown });

describe('credport sync', () => {
  it('refuses a stream named twice, naming the option, when a source is saved and when a sync runs (it was read twice)', async () => {
    const folder = join(home, 'in');
    await mkdir(folder);
    await writeFile(join(folder, 'tags.jsonl'), '{"id":"t1"}\n');
    const twice = await cli(['sources', 'add', 'jsonl', '--name', 'In', '--path', folder, '--streams', 'tags,tags']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('stream "tags" is named more than once in streams');
    const source = JSON.parse((await cli(['sources', 'add', 'jsonl', '--name', 'In', '--path', folder, '--json'])).stdout).id as string;
    const destination = JSON.parse(
      (await cli(['destinations', 'add', 'jsonl', '--name', 'Out', '--path', join(home, 'out'), '--json'])).stdout,
    ).id as string;
    const result = await cli(['sync', source, '--to', destination, '--streams', 'tags,tags', '--json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('stream "tags" is named more than once in streams');
    await expect(readFile(join(home, 'out', 'tags.jsonl'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reads every Front stream into JSONL, each record once, with JSON events for hosts', async () => {
    const { source, destination, path } = await setUp({ records: 230 });
    const result = await cli(['sync', source, '--to', destination, '--json']);
    expect(result.code).toBe(0);
    const all = events(result.stdout);
    expect(all[0]).toMatchObject({ event: 'started', streams: STREAMS, resumed: [] });
    expect(all.at(-1)).toMatchObject({ event: 'finished', summary: { records: 4 * 230 + 3 + 5 } });
    for (const stream of ['contacts', 'conversations', 'tags', 'accounts']) expectExactlyOnce(await idsIn(path, stream), 230);
    expectExactlyOnce(await idsIn(path, 'inboxes'), 3);
    expectExactlyOnce(await idsIn(path, 'teammates'), 5);
    // Every checkpoint comes after the page event it vouches for, stream by stream (streams run side by side).
    const checkpoints = all.map((e, i) => [e, i] as const).filter(([e]) => e.event === 'checkpoint' && (e.pages as number) > 0);
    expect(checkpoints.length).toBeGreaterThanOrEqual(STREAMS.length);
    for (const [checkpoint, at] of checkpoints) {
      expect(all.slice(0, at).some((e) => e.event === 'page' && e.stream === checkpoint.stream && e.page === checkpoint.pages)).toBe(true);
    }
  });

  it('resumes after kill -9 at a random page with no record lost or doubled', async () => {
    const { source, destination, path } = await setUp({ records: 1500 }, 'contacts,accounts');
    const killAt = 3 + Math.floor(Math.random() * 20); // somewhere in contacts (15 pages) or accounts
    const child = spawn(process.execPath, [CLI, 'sync', source, '--to', destination, '--json'], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pages = 0;
    let buffer = '';
    const seen: { event: string; stream?: string; page?: number }[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        seen.push(JSON.parse(line));
        if (seen.at(-1)!.event === 'page' && ++pages === killAt) child.kill('SIGKILL');
      }
    });
    const signal = await new Promise((resolve) => child.on('close', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');

    const again = await cli(['sync', source, '--to', destination, '--json']);
    expect(again.code).toBe(0);
    // On a loaded machine the kill lands some pages after the event that asked for it: judge the
    // resume by what the killed run reported. A stream it checkpointed and did not finish resumes;
    // one whose page it reported without that checkpoint may or may not have reached the store.
    const resumed = events(again.stdout)[0]!.resumed as string[];
    const finished = new Set(seen.filter((e) => e.event === 'stream_finished').map((e) => e.stream));
    const checkpointed = seen.filter((e) => e.event === 'checkpoint' && !finished.has(e.stream)).map((e) => e.stream);
    const reading = seen.filter((e) => e.event === 'page' && !finished.has(e.stream)).map((e) => e.stream);
    // Streams run side by side: each one checkpointed and not at its last page (15 of 1,500 records,
    // whose final checkpoint may or may not have landed) resumes; nothing else does.
    for (const stream of new Set(checkpointed)) {
      const atLastPage = seen.some((e) => e.event === 'page' && e.stream === stream && e.page === 15);
      if (!atLastPage) expect(resumed).toContain(stream);
    }
    expect(resumed.every((stream) => reading.includes(stream))).toBe(true);
    expectExactlyOnce(await idsIn(path, 'contacts'), 1500);
    expectExactlyOnce(await idsIn(path, 'accounts'), 1500);
  });

  it('absorbs burst 429s (retry-after read as milliseconds) and 5xx (retried with backoff), losing nothing', async () => {
    const { source, destination, path } = await setUp({ records: 600, burstEvery: 4, failEvery: 7 }, 'contacts,tags');
    const result = await cli(['sync', source, '--to', destination, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const all = events(result.stdout);
    const waits = all.filter((e) => e.event === 'rate_limited');
    expect(emulator!.stats.rateLimited).toBeGreaterThan(0);
    expect(emulator!.stats.failed).toBeGreaterThan(0);
    expect(waits.length).toBe(emulator!.stats.rateLimited);
    expect(waits.every((e) => e.waitMs === 150)).toBe(true); // "150" with "milliseconds" in the body: not 150 s
    expect(all.filter((e) => e.event === 'retry').length).toBe(emulator!.stats.failed);
    expectExactlyOnce(await idsIn(path, 'contacts'), 600);
    expectExactlyOnce(await idsIn(path, 'tags'), 600);
  });

  it('waits for x-ratelimit-reset when x-ratelimit-remaining reaches 0, instead of provoking 429s', async () => {
    const { source, destination, path } = await setUp({ records: 1000, rateLimit: 4, rateWindowMs: 400 }, 'contacts');
    const started = Date.now();
    const result = await cli(['sync', source, '--to', destination, '--json']);
    expect(result.code).toBe(0);
    expect(emulator!.stats.rateLimited).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800); // 10 pages at 4 a window: at least two waits
    expectExactlyOnce(await idsIn(path, 'contacts'), 1000);
  });

  it('stops cleanly on a 401 mid-sync: exit 3, the tile marked invalid, the checkpoint kept for a resume', async () => {
    const { credential, source, destination, path, token } = await setUp({ records: 1000, revokeAfter: 6 }, 'contacts');
    const result = await cli(['sync', source, '--to', destination]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('401 Unauthenticated');
    expect(result.stderr).toContain('marked invalid');
    const tile = JSON.parse((await cli(['credentials', 'show', credential, '--json'])).stdout);
    expect(tile.status).toBe('invalid');
    const partial = await idsIn(path, 'contacts');
    expect(partial.length).toBeGreaterThan(0);

    emulator!.tokens.add(token); // the user fixes the token at the provider
    (emulator as unknown as { options: FrontEmulatorOptions }).options.revokeAfter = undefined;
    const resumed = await cli(['sync', source, '--to', destination, '--json']);
    expect(resumed.code).toBe(0);
    expectExactlyOnce(await idsIn(path, 'contacts'), 1000);
  });

  it('names the scope a stream needs when Front answers 403, after the streams before it landed', async () => {
    const { source, destination, path } = await setUp({ records: 50, forbidden: ['tags'] }, 'contacts,tags');
    const result = await cli(['sync', source, '--to', destination]);
    expect(result.code).toBe(3);
    expect(result.stderr.trim().split('\n').at(-1)).toBe(
      'credport: Front rejected the credential: 403 Forbidden: You do not have the permission to access this resource (GET /tags); stream tags needs the scope tags:read on the token',
    );
    expectExactlyOnce(await idsIn(path, 'contacts'), 50);
  });

  it('never sends the token to a foreign origin named by a next link: the page token is replayed at home', async () => {
    // Another Front on another origin, logging whatever reaches it.
    const trap = await new FrontEmulator({ recordRequests: true }).start();
    const seen = trap.seen;
    const foreign = trap.url;
    try {
      const { source, destination, path } = await setUp({ records: 350, nextOrigin: foreign }, 'contacts');
      const result = await cli(['sync', source, '--to', destination, '--json']);
      expect(result.code).toBe(0);
      expect(events(result.stdout).filter((e) => e.event === 'link_rewritten').length).toBeGreaterThan(0);
      expect(seen).toEqual([]);
      expectExactlyOnce(await idsIn(path, 'contacts'), 350);
    } finally {
      await trap.stop();
    }
  });

  it("reads only newer contacts on the next run, asking Front's way: q[updated_after] with the newest updated_at seen", async () => {
    const { source, destination, path } = await setUp({ records: 120 }, 'contacts');
    expect((await cli(['sync', source, '--to', destination])).code).toBe(0);
    (emulator as unknown as { options: FrontEmulatorOptions }).options.records = 150; // 30 contacts updated since
    emulator!.pagesAsked.length = 0;
    const again = await cli(['sync', source, '--to', destination, '--json']);
    expect(again.code).toBe(0);
    const first = new URL(emulator!.pagesAsked[0]!, emulator!.url).searchParams;
    expect(first.get('q[updated_after]')).toBe(String(1_767_225_600 + 119)); // the emulator's EPOCH + the last contact's index
    expect(first.get('q')).toBeNull();
    expect(events(again.stdout).at(-1)).toMatchObject({ event: 'finished', summary: { records: 30, skipped: 0 } });
    expectExactlyOnce(await idsIn(path, 'contacts'), 150);
  });

  it('writes no contact twice when the provider ignores the incremental filter: records at or before the cursor are skipped', async () => {
    const { source, destination, path } = await setUp({ records: 120, ignoreFilter: true }, 'contacts');
    expect((await cli(['sync', source, '--to', destination])).code).toBe(0);
    (emulator as unknown as { options: FrontEmulatorOptions }).options.records = 150;
    const again = await cli(['sync', source, '--to', destination, '--json']);
    expect(again.code).toBe(0);
    expect(events(again.stdout).at(-1)).toMatchObject({ event: 'finished', summary: { records: 150, skipped: 120 } });
    expectExactlyOnce(await idsIn(path, 'contacts'), 150);
  });

  it('refuses a source for a credential of another connector, and a delete of a credential in use', async () => {
    const extras = await tempHome();
    await writeConnector(extras, 'acme');
    env.CREDPORT_CONNECTORS = extras;
    const acme = await cli(
      ['credentials', 'add', 'acme', '--name', 'Acme', '--no-verify', '--secret-stdin', '--json'],
      'acme_token_123456',
    );
    expect(acme.code).toBe(0);
    const acmeId = JSON.parse(acme.stdout).id;
    const refused = await cli(['sources', 'add', 'front', '--name', 'x', '--credential', acmeId]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`credential ${acmeId} ("Acme") is a acme credential; a front source needs a front credential`);

    const { credential } = await setUp({ records: 10 });
    const inUse = await cli(['credentials', 'delete', credential]);
    expect(inUse.code).toBe(2);
    expect(inUse.stderr).toContain('is used by source "Front source"');
    expect((await cli(['credentials', 'delete', credential, '--force'])).code).toBe(0);
    await removeHome(extras);
  });

  it('reads again from the start with --full-refresh, still each record once', async () => {
    const { source, destination, path } = await setUp({ records: 120 }, 'tags');
    expect((await cli(['sync', source, '--to', destination])).code).toBe(0);
    const again = await cli(['sync', source, '--to', destination, '--full-refresh']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('synced 120 records');
    // The rate it reached, against the limit Front announced (the emulator: 100,000 a minute).
    expect(again.stdout).toMatch(/; 2 requests, [\d.]+\/min, [\d.]+ of the provider's 100000\/min\n$/);
    expectExactlyOnce(await idsIn(path, 'tags'), 120);
  });

  it('refuses a --concurrency that is not a whole number from 1 to 32, naming the option, and syncs nothing', async () => {
    const { source, destination } = await setUp({ records: 10 }, 'tags');
    for (const [value, message] of [
      ['x', '--concurrency must be a whole number, not "x"'],
      ['0', 'concurrency must be a whole number from 1 to 32'],
      ['33', 'concurrency must be a whole number from 1 to 32'],
    ] as const) {
      const refused = await cli(['sync', source, '--to', destination, '--concurrency', value]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(message);
    }
    expect(emulator!.stats.pages).toBe(0);
  });
});
