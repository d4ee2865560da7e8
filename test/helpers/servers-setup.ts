import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Global set-up of the postgres and redis jest projects: the servers up before any suite runs.
 * Run as the script .ci/run runs, since jest loads a global set-up without its module mapping.
 */
export default function serversSetup(): void {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  execFileSync(process.execPath, [`${root}node_modules/tsx/dist/cli.mjs`, `${root}test/helpers/start-servers.ts`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
