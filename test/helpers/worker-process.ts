import { type ChildProcess, spawn } from 'node:child_process';
import { CLI } from './run-cli.js';

/** A `credport worker --json` process, as an operator runs one. */
export interface WorkerProcess {
  child: ChildProcess;
  /** Its --json lines so far: ready, started, finished, returned, failed, connection. */
  lines: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<number | null>;
  /** SIGTERM, then its exit code. */
  stop: () => Promise<number | null>;
}

const running = new Set<ChildProcess>();

/**
 * Starts the real CLI's worker (from dist/) and resolves once it says `ready`. `onLine` sees each
 * JSON line as it comes (a test that pools several workers' reports).
 */
export function startWorkerProcess(
  env: NodeJS.ProcessEnv,
  options: { args?: string[]; onLine?: (line: Record<string, unknown>, pid: number) => void } = {},
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--json', ...(options.args ?? [])], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const worker: WorkerProcess = {
    child,
    lines: [],
    stderr: () => stderr,
    exited,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      const lines = text.split('\n');
      text = lines.pop()!;
      for (const line of lines) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        worker.lines.push(parsed);
        options.onLine?.(parsed, child.pid!);
        if (parsed.event === 'ready') resolve(worker);
      }
    });
    void exited.then((code) => reject(new Error(`worker exited ${code} before it was ready: ${stderr}`)));
  });
}

/** kill -9 of every worker a test file started and left running (for its afterAll). */
export function killLeftWorkers(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
