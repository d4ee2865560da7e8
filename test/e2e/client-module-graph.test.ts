// credport/client runs in a host's back end: importing it must load nothing of the server (no
// fastify, keyv, got, ajv, no store or registry), only fetch and the generated operation table.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { removeHome, tempHome } from '../helpers/temp-home.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODULE_LOG = fileURLToPath(new URL('../helpers/module-log.mjs', import.meta.url));
let home: string;
beforeAll(async () => {
  home = await tempHome();
});
afterAll(() => removeHome(home));

/** Every module a node process loaded for `import 'credport/client'` (the package's own exports map), below the package. */
async function modulesLoadedByImport(): Promise<string[]> {
  const log = join(home, 'modules-client.txt');
  const script =
    "const { createCredportClient } = await import('credport/client'); createCredportClient({ baseUrl: 'http://127.0.0.1:1', token: 't' });";
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', MODULE_LOG, '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CREDPORT_MODULE_LOG: log },
      stdio: 'ignore',
    });
    child.on('error', reject);
    child.on('close', resolve);
  });
  expect(code).toBe(0);
  return [
    ...new Set(
      (await readFile(log, 'utf8'))
        .split('\n')
        .filter((url) => url.startsWith('file:'))
        .map((url) => fileURLToPath(url).replace(ROOT, '')),
    ),
  ];
}

describe('import credport/client', () => {
  it('loads dist/client and the generated table only: no server, store, registry or HTTP client package', async () => {
    const modules = await modulesLoadedByImport();
    expect(modules).toContain('dist/client/index.js'); // the exports map and the log work
    // Anywhere: node_modules may be a link to another checkout's, and modules resolve to their real path.
    expect(modules.filter((m) => m.includes('node_modules/'))).toEqual([]);
    expect(modules.filter((m) => m.startsWith('dist/') && !/^dist\/(client\/|generated\/credport-api\.js$)/.test(m))).toEqual([]);
  });
});
