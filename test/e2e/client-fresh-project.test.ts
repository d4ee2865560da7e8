// credport/client and the served document from a fresh project, as a host engineer meets them:
// `npm pack` credport, install the tarball into a copy of examples/host-backend (its own
// TypeScript 5.9, openapi-typescript and openapi-fetch, from the registry), generate types from
// the document a real `credport serve` serves, type-check with tsc, and run it against that server
// and the Front emulator, all on loopback.
import { execFile } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { type Served, startServe } from '../helpers/serve.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

jest.setTimeout(600_000);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples', 'host-backend');
const API_TOKEN = 'host-backend-example-token-0123456789';
const run = promisify(execFile);

let work: string;
let project: string;
let front: FrontEmulator;
let serve: Served;

/** Runs a command in the project; its output in the failure, so a red test says why. */
async function inProject(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await run(file, args, {
    cwd: project,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`${file} ${args.join(' ')} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}\n${error.message}`);
  });
  return stdout;
}

const tsc = (...args: string[]) => inProject(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), ...args]);

beforeAll(async () => {
  work = await tempHome();
  // dist/ is built by the suite's set-up (build-once.ts): packed as it is, without running `prepare` again.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const tarball = join(work, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  project = join(work, 'host-backend');
  await cp(EXAMPLE, project, { recursive: true, filter: (source) => !/[/\\](node_modules|dist|generated)$/.test(source) });
  const manifest = JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  manifest.dependencies.credport = `file:${tarball}`;
  await writeFile(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
  // No install scripts: the example needs no native module (the server it talks to runs from this checkout).
  await inProject('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error']);

  front = await new FrontEmulator({ records: 60 }).start();
  serve = await startServe({ home: join(work, 'home'), env: { CREDPORT_API_TOKEN: API_TOKEN } });
});

afterAll(async () => {
  await serve?.stop();
  await front?.stop();
  await removeHome(work);
});

describe('a fresh host project', () => {
  it('generates types from the served document with openapi-typescript and type-checks with TypeScript 5.9, no cast', async () => {
    expect(await tsc('--version')).toMatch(/^Version 5\.9\./);
    expect(await inProject(process.execPath, ['generate-types.mjs'], { CREDPORT_URL: serve.url, CREDPORT_API_TOKEN: API_TOKEN })).toContain(
      'generated',
    );
    const types = await readFile(join(project, 'src', 'generated', 'credport-api.d.ts'), 'utf8');
    expect(types).toContain('createCredential');
    await tsc('--noEmit');
    expect(await readFile(join(project, 'src', 'main.ts'), 'utf8')).not.toMatch(/\bas (unknown|any|never)\b|<any>/);
  });

  it("refuses at compile time a field Front's credential schema does not have, in both clients", async () => {
    await writeFile(
      join(project, 'src', 'typo.ts'),
      [
        "import createClient from 'openapi-fetch';",
        "import { createCredportClient } from 'credport/client';",
        "import type { paths } from './generated/credport-api.js';",
        "const api = createClient<paths>({ baseUrl: 'http://127.0.0.1:1' });",
        "void api.POST('/api/v1/credentials', { body: { connector: 'front', values: { name: 'n', apiKye: 'k' } } });",
        "const client = createCredportClient({ baseUrl: 'http://127.0.0.1:1', token: 't' });",
        "void client.createCredential({ body: { connector: 'front', values: { name: 'n', apiKye: 'k' } } });",
        '',
      ].join('\n'),
    );
    const refused = await tsc('--noEmit').then(
      () => '',
      (error: Error) => error.message,
    );
    expect(refused.match(/src\/typo\.ts\(\d+,\d+\): error TS\d+:.*apiKye/g)).toHaveLength(2);
    await writeFile(join(project, 'src', 'typo.ts'), 'export {};\n');
  });

  it('drives the whole flow against credport serve and the Front emulator with openapi-fetch, and again with credport/client, each to the end of a sync', async () => {
    await tsc();
    const output = await inProject(process.execPath, ['dist/main.js'], {
      CREDPORT_URL: serve.url,
      CREDPORT_API_TOKEN: API_TOKEN,
      FRONT_URL: front.url,
      FRONT_TOKEN: [...front.tokens][0]!,
    });
    const report = JSON.parse(output.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(report).toMatchObject({
      connectors: expect.arrayContaining(['front', 'frontegg', 'frontline']),
      secretField: ['apiKey'],
      refused: { status: 422, field: '/values/apiKey' },
      tile: 'verified',
      tiles: 1,
      records: 60,
      notFound: '404 not_found',
    });
    const events = report.events as string[];
    expect([events[0], events.at(-1)]).toEqual(['started', 'finished']);
    // The whole flow again with openapi-fetch alone, typed by openapi-typescript: its own sync to the end.
    const flow = report.flow as { tiles: number; events: string[]; records: number };
    expect(flow).toMatchObject({ tiles: 1, records: 60 });
    expect([flow.events[0], flow.events.at(-1)]).toEqual(['started', 'finished']);
  });
});
