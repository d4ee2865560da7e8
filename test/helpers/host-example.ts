import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** examples/host/server.mjs: it imports credport/client by the package's self-reference, so dist/ must be built. */
export const HOST_EXAMPLE = fileURLToPath(new URL('../../examples/host/server.mjs', import.meta.url));

export interface HostExample {
  /** Its own origin, http://127.0.0.2:<port>: the only origin its connect sessions allow. */
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts the host example as its README runs it (node examples/host/server.mjs --credport <url>
 * --host 127.0.0.2), with the API token in the environment (never argv), and waits for its
 * `listening` line.
 */
export async function startHostExample(options: { credport: string; token: string; host?: string }): Promise<HostExample> {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [HOST_EXAMPLE, '--credport', options.credport, '--host', options.host ?? '127.0.0.2', '--port', '0'],
    { env: { PATH: process.env.PATH, HOME: process.env.HOME, CREDPORT_API_TOKEN: options.token }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the host example did not start: ${output}`)), 15_000);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.startsWith('{"event":"listening"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once('exit', (code) => reject(new Error(`the host example exited (${code}): ${output}`)));
  });
  return {
    url,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
