// Credential figures for npm run bench: listing 10,000 tiles, and what add costs besides its verification request.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import KeyvSqlite from '@keyv/sqlite';
import got from 'got';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { type Credport, openCredport } from '../../src/open-credport.js';

export const TOTAL = 10_000;
export const ACME = 1_000; // the "one connector" slice
const ADDS = 200;
const CLI_ADDS = 10;
const run = promisify(execFile);

export async function median(times: number, fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

/** 9,000 Front and 1,000 acme credentials, saved unverified: the store is what is measured. */
export async function fillStore(credport: Credport): Promise<void> {
  for (let i = 0; i < TOTAL; i++) {
    const acme = i % (TOTAL / ACME) === 0;
    await credport.credentials.create({
      connector: acme ? 'acme' : 'front',
      values: acme
        ? { name: `Acme ${i}`, token: `acme_token_${i}_abcdefgh` }
        : { name: `Front ${i}`, description: 'bench', apiKey: `front_token_${i}_abcdefghijkl` },
      verify: false,
    });
  }
}

export interface Row {
  what: string;
  ours: number;
  base: number;
  unit: string;
}

export async function credentialBench(
  home: string,
  extras: string,
): Promise<{ rows: Row[]; fillMs: number; addMs: number; verifyMs: number; cliAdd: number; nodeRequest: number }> {
  const rows: Row[] = [];
  const credport = await openCredport({ home, env: { CREDPORT_HTTP_RETRIES: '0' }, extraConnectorDirs: [extras] });

  // Fill the store: 9,000 Front and 1,000 acme credentials (saved unverified: the store is what is measured).
  let start = performance.now();
  await fillStore(credport);
  const fillMs = performance.now() - start;

  // Baseline: the least any listing must do, one SQL read of the rows and a JSON.parse each.
  const raw = new KeyvSqlite({ uri: `sqlite://${join(home, 'credport.sqlite')}` } as never);
  const rawRows = async () =>
    (await raw.query("SELECT key, value FROM keyv WHERE key LIKE 'credport:credential:%'")) as { value: string }[];
  const baseAll = () => rawRows().then((r) => r.map((x) => JSON.parse(x.value).value));
  const baseOne = () => baseAll().then((r) => r.filter((x: { connector: string }) => x.connector === 'acme'));
  if ((await credport.credentials.list()).length !== TOTAL) throw new Error('listing is wrong');
  if ((await credport.credentials.list({ connector: 'acme' })).length !== ACME) throw new Error('acme slice is wrong');
  rows.push({
    what: `list all ${TOTAL} tiles`,
    ours: await median(7, () => credport.credentials.list()),
    base: await median(7, baseAll),
    unit: 'ms',
  });
  rows.push({
    what: `list one connector (${ACME} of ${TOTAL})`,
    ours: await median(7, () => credport.credentials.list({ connector: 'acme' })),
    base: await median(7, baseOne),
    unit: 'ms',
  });
  await raw.disconnect();

  // add: total time beside the verification request alone (a fresh got client per request, as add makes).
  const emulator = await new FrontEmulator().start();
  const [token] = [...emulator.tokens];
  const verifyOnly = () => got(`${emulator.url}/me`, { headers: { authorization: `Bearer ${token}` } }).json();
  for (let i = 0; i < 20; i++) await verifyOnly(); // warm both paths
  start = performance.now();
  for (let i = 0; i < ADDS; i++) await verifyOnly();
  const verifyMs = (performance.now() - start) / ADDS;
  start = performance.now();
  for (let i = 0; i < ADDS; i++) {
    await credport.credentials.create({ connector: 'front', values: { name: `Verified ${i}`, apiKey: token! }, baseUrl: emulator.url });
  }
  const addMs = (performance.now() - start) / ADDS;
  rows.push({ what: 'credentials.create (library), per add', ours: addMs, base: verifyMs, unit: 'ms' });
  await credport.close();

  // The CLI as a user runs it: one process per add, beside one process that only sends GET /me.
  const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
  const childEnv = { ...process.env, CREDPORT_HOME: home, CREDPORT_HTTP_RETRIES: '0', FRONT_TOKEN: token! };
  const requestOnly = `fetch(${JSON.stringify(`${emulator.url}/me`)}, { headers: { authorization: 'Bearer ' + process.env.FRONT_TOKEN } }).then((r) => r.json())`;
  const cliAdd = await median(CLI_ADDS, () =>
    run(
      process.execPath,
      [cli, 'credentials', 'add', 'front', '--name', 'cli', '--base-url', emulator.url, '--secret-env', 'FRONT_TOKEN'],
      { env: childEnv },
    ),
  );
  const nodeRequest = await median(CLI_ADDS, () => run(process.execPath, ['-e', requestOnly], { env: childEnv }));
  rows.push({ what: '`credport credentials add` process, wall clock', ours: cliAdd, base: nodeRequest, unit: 'ms' });
  await emulator.stop();
  return { rows, fillMs, addMs, verifyMs, cliAdd, nodeRequest };
}
