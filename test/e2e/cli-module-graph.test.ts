// A command loads what it needs when it runs: --help and credentials list must not pay for ajv,
// got, the emulators, the progress bars or the prompts (issue 8: start-up was 3.6x and 5x node -e 0).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CLI } from '../helpers/run-cli.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

const MODULE_LOG = fileURLToPath(new URL('../helpers/module-log.mjs', import.meta.url));
let home: string;
beforeAll(async () => {
  home = await tempHome();
});
afterAll(() => removeHome(home));

/** Every module (ES and CommonJS) the CLI process loaded for these arguments, as paths below the package. */
async function modulesLoadedBy(args: string[]): Promise<string[]> {
  const log = join(home, `modules-${args.join('-')}.txt`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', MODULE_LOG, CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CREDPORT_HOME: home, CREDPORT_MODULE_LOG: log },
      stdio: 'ignore',
    });
    child.on('error', reject);
    child.on('close', resolve);
  });
  expect(code).toBe(0);
  const root = fileURLToPath(new URL('../../', import.meta.url));
  return [
    ...new Set(
      (await readFile(log, 'utf8'))
        .split('\n')
        .filter((url) => url.startsWith('file:'))
        .map((url) => fileURLToPath(url).replace(root, '')),
    ),
  ];
}

// Loaded only by the commands that use them: the SQLite store's listing needs none of these, and
// the server stores and the queue (pg, @keyv/postgres, @keyv/redis, bullmq) load only when named.
const HEAVY = [
  'ajv',
  'ajv-formats',
  'got',
  'cli-progress',
  '@inquirer/password',
  '@inquirer/input',
  'pg',
  '@keyv/postgres',
  '@keyv/redis',
  'bullmq',
  // The trace SDK and exporter: only serve and worker, and only with OTEL_EXPORTER_OTLP_ENDPOINT set.
  '@opentelemetry/sdk-trace-node',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/exporter-trace-otlp-http',
];
// Anywhere in the path: node_modules may be a link to another checkout's, and modules resolve to their real path.
const loaded = (modules: string[], pkg: string) => modules.some((m) => m.includes(`node_modules/${pkg}/`));

describe('what a command loads', () => {
  it('--help: commander and the command definitions, no store, registry, HTTP client or emulator', async () => {
    const modules = await modulesLoadedBy(['--help']);
    expect(loaded(modules, 'commander')).toBe(true); // the log works
    for (const pkg of [...HEAVY, 'keyv', '@keyv/sqlite', 'sqlite3']) expect([pkg, loaded(modules, pkg)]).toEqual([pkg, false]);
    expect(modules.filter((m) => /^dist\/(store|keys|configs|registry|http|auth|credentials|sync|emulator|demo)\//.test(m))).toEqual([]);
  });

  it('credentials list: the store, but neither ajv nor got (no validation, no provider request)', async () => {
    const modules = await modulesLoadedBy(['credentials', 'list']);
    expect(loaded(modules, 'keyv')).toBe(true);
    expect(loaded(modules, 'sqlite3')).toBe(true);
    for (const pkg of HEAVY) expect([pkg, loaded(modules, pkg)]).toEqual([pkg, false]);
    expect(modules.filter((m) => /^dist\/(emulator|demo)\//.test(m))).toEqual([]);
  });

  it('connectors list still validates every connector (ajv is loaded when needed)', async () => {
    const modules = await modulesLoadedBy(['connectors', 'list']);
    expect(loaded(modules, 'ajv')).toBe(true);
  });
});
