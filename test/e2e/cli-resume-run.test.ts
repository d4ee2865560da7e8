import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { RecordingProxy } from '../helpers/recording-proxy.js';
import { CLI, type CliResult, runCli } from '../helpers/run-cli.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

/**
 * A run is a unit: the sync after an interrupted run finishes that run. These tests count, through a
 * loopback proxy in front of the Front emulator, which list requests each sync makes.
 */
let home: string;
let env: NodeJS.ProcessEnv;
let emulator: FrontEmulator;
let proxy: RecordingProxy;
let proxyUrl: string;
/** Where the requests of the sync being counted begin in the proxy's log. */
let from = 0;

beforeEach(async () => {
  home = await tempHome();
  env = { CREDPORT_HOME: home, CREDPORT_HTTP_RETRIES: '0' };
  from = 0;
  proxy = await RecordingProxy.start(() => emulator.url);
  proxyUrl = proxy.url;
  // Its page links name the proxy, so every page goes through it.
  emulator = await new FrontEmulator({ records: 400, nextOrigin: proxyUrl }).start();
});

afterEach(async () => {
  await proxy.stop();
  await emulator.stop();
  await removeHome(home);
});

const cli = (args: string[], input = ''): Promise<CliResult> => runCli(args, { env, input });
const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event: string; [k: string]: unknown });
const count = (path: string) =>
  proxy
    .paths()
    .slice(from)
    .filter((p) => p === path).length;

async function setUp(): Promise<{ source: string; destination: string; path: string }> {
  const token = [...emulator.tokens][0]!;
  const added = await cli(['credentials', 'add', 'front', '--name', 'Front', '--base-url', proxyUrl, '--secret-stdin', '--json'], token);
  expect(added.code).toBe(0);
  const credential = JSON.parse(added.stdout).id as string;
  const source = await cli([
    'sources',
    'add',
    'front',
    '--name',
    'Front',
    '--credential',
    credential,
    '--streams',
    'tags,contacts,accounts',
    '--json',
  ]);
  expect(source.code).toBe(0);
  const path = join(home, 'out');
  const destination = await cli(['destinations', 'add', 'jsonl', '--name', 'Files', '--path', path, '--json']);
  expect(destination.code).toBe(0);
  return { source: JSON.parse(source.stdout).id, destination: JSON.parse(destination.stdout).id, path };
}

/** Runs a sync and kills it (-9) as soon as the named stream has checkpointed its first page (or `finished`: has finished); returns the events it printed. */
async function killDuring(
  args: string[],
  stream: string,
  when: 'checkpoint' | 'finished' = 'checkpoint',
): Promise<{ event: string; stream?: string }[]> {
  const printed: { event: string; stream?: string }[] = [];
  const child = spawn(process.execPath, [CLI, ...args, '--json'], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      const event = JSON.parse(line) as { event: string; stream?: string };
      printed.push(event);
      if (event.event === (when === 'finished' ? 'stream_finished' : 'checkpoint') && (event.stream === stream || stream === '*'))
        child.kill('SIGKILL');
    }
  });
  const signal = await new Promise((resolve) => child.on('close', (_code, sig) => resolve(sig)));
  expect(signal).toBe('SIGKILL');
  return printed;
}

async function expectEachOnce(path: string, stream: string, records: number): Promise<void> {
  const text = await readFile(join(path, `${stream}.jsonl`), 'utf8');
  const ids = text
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { id: string }).id);
  expect(ids).toHaveLength(records);
  expect(new Set(ids).size).toBe(records);
}

describe('a sync run is a unit', () => {
  it('finishes an interrupted run: the finished stream is not requested again, every record lands once', async () => {
    const { source, destination, path } = await setUp();
    await killDuring(['sync', source, '--to', destination, '--streams', 'tags,contacts', '--concurrency', '1'], 'contacts');
    expect(count('/tags')).toBe(4);

    from = proxy.log.length;
    const again = await cli(['sync', source, '--to', destination, '--streams', 'tags,contacts', '--json']);
    expect(again.code).toBe(0);
    expect(events(again.stdout)[0]).toMatchObject({ event: 'started', resumedRun: true, skipped: ['tags'], resumed: ['contacts'] });
    expect(count('/tags')).toBe(0);
    // At least page 1 of 4 was checkpointed before the kill landed: the rest is read, not the whole stream.
    expect(count('/contacts')).toBeGreaterThanOrEqual(1);
    expect(count('/contacts')).toBeLessThanOrEqual(3);
    await expectEachOnce(path, 'tags', 400);
    await expectEachOnce(path, 'contacts', 400);
    const summary = events(again.stdout).at(-1)!.summary as { finishedEarlier: string[]; streams: Record<string, { records: number }> };
    expect(summary.finishedEarlier).toEqual(['tags']);
    expect(summary.streams.tags!.records).toBe(400);

    // That run is done: the next sync is a new run, which reads every (full-refresh) stream whole again.
    from = proxy.log.length;
    const next = await cli(['sync', source, '--to', destination, '--streams', 'tags,contacts', '--json']);
    expect(next.code).toBe(0);
    expect(events(next.stdout)[0]).toMatchObject({ resumedRun: false, skipped: [], resumed: [] });
    expect(count('/tags')).toBe(4);
    await expectEachOnce(path, 'tags', 400);
    await expectEachOnce(path, 'contacts', 400);
  });

  it('says so in a line for people', async () => {
    const { source, destination } = await setUp();
    await killDuring(['sync', source, '--to', destination, '--streams', 'tags,contacts', '--concurrency', '1'], 'contacts');
    const again = await cli(['sync', source, '--to', destination, '--streams', 'tags,contacts']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(
      'finishing the interrupted run: tags already done, not read again; contacts continues from the checkpoint',
    );
  });

  it('lets a stream added since join the interrupted run, and drops one removed from it', async () => {
    const { source, destination, path } = await setUp();
    await killDuring(['sync', source, '--to', destination, '--streams', 'tags,contacts', '--concurrency', '1'], 'contacts');

    // contacts is left out, accounts added: tags is still done, accounts runs, and the run ends.
    from = proxy.log.length;
    const joined = await cli(['sync', source, '--to', destination, '--streams', 'tags,accounts', '--json']);
    expect(joined.code).toBe(0);
    expect(events(joined.stdout)[0]).toMatchObject({ resumedRun: true, skipped: ['tags'], resumed: [] });
    expect(count('/tags')).toBe(0);
    expect(count('/contacts')).toBe(0);
    expect(count('/accounts')).toBe(4);

    // A new run; the dropped contacts still continues from its own checkpoint, so nothing doubles.
    from = proxy.log.length;
    const next = await cli(['sync', source, '--to', destination, '--streams', 'tags,contacts', '--json']);
    expect(next.code).toBe(0);
    expect(events(next.stdout)[0]).toMatchObject({ resumedRun: false, resumed: ['contacts'] });
    expect(count('/tags')).toBe(4);
    expect(count('/contacts')).toBeLessThanOrEqual(3);
    for (const stream of ['tags', 'contacts', 'accounts']) await expectEachOnce(path, stream, 400);
  });

  it('discards the interrupted run on --full-refresh and reads every stream again', async () => {
    const { source, destination, path } = await setUp();
    await killDuring(['sync', source, '--to', destination, '--streams', 'tags,contacts', '--concurrency', '1'], 'contacts');
    from = proxy.log.length;
    const fresh = await cli(['sync', source, '--to', destination, '--streams', 'tags,contacts', '--full-refresh', '--json']);
    expect(fresh.code).toBe(0);
    expect(events(fresh.stdout)[0]).toMatchObject({ resumedRun: false, skipped: [], resumed: [] });
    expect(count('/tags')).toBe(4);
    expect(count('/contacts')).toBe(4);
    await expectEachOnce(path, 'tags', 400);
    await expectEachOnce(path, 'contacts', 400);
  });

  it('stops at the next checkpoint on Ctrl-C (exit 130), and the next sync finishes the run', async () => {
    const { source, destination, path } = await setUp();
    const child = spawn(process.execPath, [CLI, 'sync', source, '--to', destination, '--streams', 'tags,contacts', '--json'], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (!out.includes('"checkpoint"') && chunk.toString().includes('"checkpoint"')) child.kill('SIGINT');
      out += chunk.toString();
    });
    const code = await new Promise((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(130);
    expect(events(out).find((e) => e.event === 'failed')).toMatchObject({ code: 'sync_cancelled', exitCode: 130 });
    const again = await cli(['sync', source, '--to', destination, '--streams', 'tags,contacts', '--json']);
    expect(again.code).toBe(0);
    expect(events(again.stdout)[0]).toMatchObject({ resumedRun: true });
    await expectEachOnce(path, 'tags', 400);
    await expectEachOnce(path, 'contacts', 400);
  });

  it('finishes an interrupted concurrent run: streams read side by side, killed when the first one is done, each resumes at its own checkpoint', async () => {
    await emulator.stop();
    // Slow pages, so the three streams are seen side by side before the kill.
    emulator = await new FrontEmulator({ records: 400, nextOrigin: proxyUrl, latencyMs: 40 }).start();
    const { source, destination, path } = await setUp();
    const killed = await killDuring(['sync', source, '--to', destination, '--concurrency', '3'], '*', 'finished');
    expect(emulator.stats.maxInFlight).toBeGreaterThan(1);
    const finishedBefore = new Set(killed.filter((e) => e.event === 'stream_finished').map((e) => e.stream!));
    const checkpointedBefore = new Set(killed.filter((e) => e.event === 'checkpoint').map((e) => e.stream!));
    expect(finishedBefore.size).toBeGreaterThanOrEqual(1);

    from = proxy.log.length;
    const again = await cli(['sync', source, '--to', destination, '--json']);
    expect(again.code).toBe(0);
    const started = events(again.stdout)[0]!;
    expect(started).toMatchObject({ event: 'started', resumedRun: true });
    // What the killed run reported finished is not read again (a finish it had not yet reported may have landed too).
    for (const stream of finishedBefore) {
      expect(started.skipped).toContain(stream);
      expect(count(`/${stream}`)).toBe(0);
    }
    // A stream that had checkpointed reads on from there: never its 4 pages again.
    for (const stream of ['tags', 'contacts', 'accounts'].filter((s) => checkpointedBefore.has(s) && !finishedBefore.has(s))) {
      expect(count(`/${stream}`)).toBeLessThanOrEqual(3);
    }
    for (const stream of ['tags', 'contacts', 'accounts']) await expectEachOnce(path, stream, 400);
  });
});
