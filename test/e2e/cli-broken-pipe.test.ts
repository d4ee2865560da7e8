// A reader that closes early (`credport ... | head -1`) must end the command quietly, as SIGPIPE
// ends a Unix tool: exit 141 (what a shell reports for 128 + SIGPIPE), no stack trace, no EPIPE text.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { CLI, runCli } from '../helpers/run-cli.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

let home: string;
let emulator: FrontEmulator | undefined;
beforeEach(async () => {
  home = await tempHome();
});
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
  await removeHome(home);
});

const env = () => ({ PATH: process.env.PATH, HOME: process.env.HOME, CREDPORT_HOME: home, CREDPORT_HTTP_RETRIES: '0' });

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  firstLine: string | undefined;
}

/**
 * Runs the CLI with stdout on a socket whose reader goes away: at once (before the process has
 * written anything, so even a short output meets a closed reader), or after the first line.
 */
function runWithClosingReader(args: string[], closeAfter: 'nothing' | 'first line'): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let firstLine: string | undefined;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr, firstLine }));
    if (closeAfter === 'nothing') child.stdout.destroy();
    else {
      const lines = createInterface({ input: child.stdout });
      lines.once('line', (line) => {
        firstLine = line;
        lines.close();
        child.stdout.destroy();
      });
    }
  });
}

/** A real shell pipe into `head -1`, as the issue reports it; the child's own exit code comes back on stderr. */
function pipeIntoHead(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash script, its ${...} is bash's
    const script = '"$@" | head -1; echo "exit=${PIPESTATUS[0]}" >&2';
    const child = spawn('bash', ['-c', script, 'bash', process.execPath, CLI, ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      const code = Number(/exit=(\d+)/.exec(stderr)?.[1]);
      resolve({ stdout, stderr: stderr.replace(/exit=\d+\n/, ''), code });
    });
  });
}

function expectQuietEnd(result: { code: number | null; stderr: string }): void {
  expect(result.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(141);
}

describe('a reader that closes early', () => {
  it.each([[['--help']], [['connectors', '--json']], [['credentials', 'list']]])(
    'ends `credport %j` quietly with exit 141',
    async (args) => {
      expectQuietEnd(await runWithClosingReader(args, 'nothing'));
    },
  );

  it('ends `credentials list --json | head -1` with many tiles quietly, after the first line', async () => {
    const credport = await openCredport({ home, env: {} });
    for (let i = 0; i < 1_000; i++) {
      await credport.credentials.create({
        connector: 'front',
        values: { name: `Tile ${i}`, description: 'x'.repeat(100), apiKey: `front_token_${i}_abcdefghijkl` },
        verify: false,
      });
    }
    await credport.close();
    // Far more than a pipe holds (64 KiB), so the CLI is still writing when head leaves.
    const whole = await runCli(['credentials', 'list', '--json'], { env: env() });
    expect(whole.stdout.length).toBeGreaterThan(256 * 1024);

    const piped = await pipeIntoHead(['credentials', 'list', '--json']);
    expect(piped.stdout).toBe('[\n');
    expectQuietEnd(piped);
  });

  it('ends `sync --json` quietly after the first event; a rerun finishes the sync', async () => {
    emulator = await new FrontEmulator({ records: 5_000 }).start();
    const token = [...emulator.tokens][0]!;
    const credport = await openCredport({ home, env: {} });
    const tile = await credport.credentials.create({ connector: 'front', values: { name: 'Front', apiKey: token }, baseUrl: emulator.url });
    const source = await credport.configs.addSource({ name: 'Front', connector: 'front', credentialId: tile.id, streams: ['contacts'] });
    const destination = await credport.configs.addDestination({ name: 'Files', connector: 'jsonl', path: `${home}/out` });
    await credport.close();

    const ended = await runWithClosingReader(['sync', source.id, '--to', destination.id, '--json'], 'first line');
    expect(JSON.parse(ended.firstLine!)).toMatchObject({ event: 'started' });
    expectQuietEnd(ended);

    const rerun = await runCli(['sync', source.id, '--to', destination.id, '--json'], { env: env() });
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('"event":"finished"');
  });
});
