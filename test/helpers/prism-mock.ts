import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PrismMock {
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  /** Everything Prism printed so far, colours stripped: one line per request and per validation verdict. */
  log(): string;
  stop(): Promise<void>;
}

/** The repository's root: spec paths such as `../shared/specs/x.yml` are relative to it. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const REPO = REPO_ROOT;
const READY_MS = 60_000; // a large OpenAPI document on a busy 2-core machine takes a few seconds to load

/** Prism's CLI script, from its package.json's bin (its own launcher needs no shell). */
function prismBin(): string {
  const require = createRequire(join(REPO, 'package.json'));
  const manifest = require.resolve('@stoplight/prism-cli/package.json');
  const { bin } = require(manifest) as { bin: string | Record<string, string> };
  return join(dirname(manifest), typeof bin === 'string' ? bin : bin.prism!);
}

/** A port free on loopback right now (Prism takes a port number, not 0). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

/**
 * Starts `prism mock` on an OpenAPI document (a path relative to the repository, or absolute) on a
 * free loopback port and waits until it listens. It answers with the document's own examples and
 * logs whether each request passed the document's rules. With `errors`, a request that breaks the
 * contract gets an error answer, so a client that strays fails loudly; Front's document cannot run
 * that way (its own examples break its response schemas, so every answer would be a 500).
 */
export async function startPrism(specPath: string, options: { errors?: boolean } = {}): Promise<PrismMock> {
  const port = await freePort();
  const args = [
    prismBin(),
    'mock',
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    ...(options.errors ? ['--errors'] : []),
    resolve(REPO, specPath),
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`prism did not start in ${READY_MS} ms:\n${text.slice(-2000)}`)), READY_MS);
    const read = (chunk: Buffer) => {
      text += chunk.toString().replace(/\x1b\[[0-9;]*m/g, '');
      if (text.includes(`Prism is listening on ${url}`)) {
        clearTimeout(timer);
        ready();
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`prism exited with ${code} before listening:\n${text.slice(-2000)}`));
    });
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw error;
  });
  return {
    url,
    log: () => text,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export interface PrismRequest {
  /** "get /contacts" as Prism logs it (no query string). */
  request: string;
  /** The verdicts Prism logged for it: the request's validation, and response violations of the document's own examples. */
  lines: string[];
}

/** Prism's log cut into one entry per request received, for asserting what the contract said about each. */
export function prismRequests(log: string): PrismRequest[] {
  const out: PrismRequest[] = [];
  for (const line of log.split('\n')) {
    const received = /\[HTTP SERVER\] (\w+ \S+) .*Request received/.exec(line);
    if (received) out.push({ request: received[1]!, lines: [] });
    else if (out.length > 0 && /\[(VALIDATOR|HTTP SERVER|NEGOTIATOR)\]/.test(line)) out.at(-1)!.lines.push(line.trim());
  }
  return out;
}

/** Requests the document's rules refused (wrong parameters, missing security, unknown route). */
export function requestViolations(log: string): PrismRequest[] {
  return prismRequests(log).filter(
    (r) =>
      !r.lines.some((l) => l.includes('The request passed the validation rules')) ||
      r.lines.some((l) => /Request did not pass|Request terminated with error/.test(l)),
  );
}

/** The log lines where Prism found a request breaking the contract (or, with `errors`, answered one with an error). */
export function prismViolations(log: string): string[] {
  return log.split('\n').filter((line) => /✖\s+error|Violation/.test(line));
}
