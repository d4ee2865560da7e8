import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface ChildRun {
  ms: number;
  /** Peak resident set size in KiB, from GNU time; undefined where /usr/bin/time is missing. */
  peakKib: number | undefined;
  /** What it printed: a bench child's figures, as a JSON line. */
  stdout: string;
}

const GNU_TIME = '/usr/bin/time';

/**
 * Runs a node script as its own process, timing it and (with GNU time) reading its peak RSS.
 * `peak: false` runs node directly: start-up figures must not include GNU time's own fork and exec.
 */
export function measureChild(args: string[], env: NodeJS.ProcessEnv, options: { peak?: boolean } = {}): Promise<ChildRun> {
  const withTime = options.peak !== false && existsSync(GNU_TIME);
  const [command, argv] = withTime ? [GNU_TIME, ['-f', 'PEAK_KIB=%M', process.execPath, ...args]] : [process.execPath, args];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(command, argv, { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${args.join(' ')} failed: ${stderr.slice(-500)}`));
      const peak = /PEAK_KIB=(\d+)/.exec(stderr)?.[1];
      resolve({ ms: performance.now() - started, peakKib: peak ? Number(peak) : undefined, stdout });
    });
  });
}
