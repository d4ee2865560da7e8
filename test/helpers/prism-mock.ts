import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root: spec paths such as `../shared/specs/x.yml` are relative to it. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PRISM = join(REPO_ROOT, 'node_modules', '@stoplight', 'prism-cli', 'dist', 'index.js');
const READY_TIMEOUT_MS = 90_000;

export interface PrismMock {
  /** `http://127.0.0.1:<port>`, with no path: the spec's paths are served as written. */
  url: string;
  /** Everything Prism printed so far (its request and validation log). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts `prism mock --errors` on a free loopback port for an OpenAPI document, and resolves once
 * it listens. `--errors` turns any request that breaks the contract into an error answer (and a
 * `✖  error` log line), so a client that strays from the contract fails loudly.
 */
export async function startPrism(specPath: string): Promise<PrismMock> {
  const spec = isAbsolute(specPath) ? specPath : resolve(REPO_ROOT, specPath);
  const port = await freePort();
  const child = spawn(process.execPath, [PRISM, 'mock', '--host', '127.0.0.1', '--port', String(port), '--errors', spec], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilListening(child, () => output);
  } catch (error) {
    await kill(child);
    throw error;
  }
  return { url, log: () => output, stop: () => kill(child) };
}

/** The log lines where Prism found a request breaking the contract (or answered one with an error). */
export function prismViolations(log: string): string[] {
  return log.split('\n').filter((line) => /✖\s+error|Violation/.test(line));
}

function waitUntilListening(child: ChildProcess, output: () => string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => finish(new Error(`prism did not start within ${READY_TIMEOUT_MS} ms:\n${output()}`)), READY_TIMEOUT_MS);
    const poll = setInterval(() => {
      if (/Prism is listening on/.test(output())) finish();
    }, 50);
    const exited = (code: number | null) => finish(new Error(`prism exited (${code}) before listening:\n${output()}`));
    child.once('exit', exited);
    function finish(error?: Error) {
      clearTimeout(timer);
      clearInterval(poll);
      child.off('exit', exited);
      if (error) reject(error);
      else resolvePromise();
    }
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

/** A port nobody listens on right now (asked of the OS, then released for Prism to take). */
function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePromise(address.port) : reject(new Error('no port'))));
    });
  });
}
