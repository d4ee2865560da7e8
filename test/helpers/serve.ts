import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { CLI } from './run-cli.js';

export interface Served {
  url: string;
  /** The newest one-time login link (each use makes `serve` print the next one). */
  loginUrl: () => string;
  /** A login link not handed out by this helper before: waits for `serve` to print the next one. */
  nextLoginUrl: () => Promise<string>;
  output: () => string;
  /** Its exit code, once it has exited by itself or been stopped. */
  exited: Promise<number | null>;
  stop: () => Promise<void>;
  /** Ends it at once, as a crash would (SIGKILL: no clean-up runs), and waits for it to be gone. */
  crash: () => Promise<void>;
}

/** Starts the real `credport serve --port 0 --json` (from dist/) and waits for its `listening` line. */
export async function startServe(options: { home: string; args?: string[]; env?: NodeJS.ProcessEnv }): Promise<Served> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--json', ...(options.args ?? [])], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CREDPORT_HOME: options.home, CREDPORT_HTTP_RETRIES: '0', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let login = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`credport serve did not start: ${stdout}${stderr}`)), 15_000);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        const event = JSON.parse(line) as { event: string; url?: string; loginUrl?: string };
        if (event.loginUrl) login = event.loginUrl;
        if (event.event === 'listening') {
          clearTimeout(timer);
          resolve(event.url!);
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`credport serve exited (${code}): ${stderr}`)));
  });
  const handedOut = new Set<string>();
  return {
    url,
    loginUrl: () => login,
    nextLoginUrl: async () => {
      for (const started = Date.now(); handedOut.has(login); ) {
        if (Date.now() - started > 10_000) throw new Error(`credport serve printed no new login link: ${stdout}${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      handedOut.add(login);
      return login;
    },
    output: () => stdout + stderr,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
    crash: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
