import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function buildOnce(): void {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const node = (args: string[]) => execFileSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  node([`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`]);
  // The web app too (npm run build:web), so browser tests never drive a stale bundle.
  node([`${root}node_modules/tsx/dist/cli.mjs`, `${root}web/scripts/compile-validators.ts`]);
  // As npm run build:web makes it: jest sets NODE_ENV=test, with which Vite would bundle React's
  // development build (about 60 KiB gzipped more, and not what a user's browser runs).
  execFileSync(process.execPath, [`${root}node_modules/vite/bin/vite.js`, 'build', '--config', `${root}web/vite.config.js`], {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production' },
  });
}
