// npm run bench: credport's figures beside a baseline measured in the same process, as ratios
// (these machines are noisy; absolute times are for orientation only).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import KeyvSqlite from '@keyv/sqlite';
import got from 'got';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { writeConnector } from '../helpers/connector-fixtures.js';

const TOTAL = 10_000;
const ACME = 1_000; // the "one connector" slice
const ADDS = 200;
const CLI_ADDS = 10;
const run = promisify(execFile);

async function median(times: number, fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

const rows: [string, string, string, string][] = [];
const row = (what: string, ours: number, base: number, unit = 'ms') => rows.push([what, `${ours.toFixed(2)} ${unit}`, `${base.toFixed(2)} ${unit}`, (ours / base).toFixed(2)]);

const home = await mkdtemp(join(tmpdir(), 'credport-bench-'));
const extras = await mkdtemp(join(tmpdir(), 'credport-bench-connectors-'));
await writeConnector(extras, 'acme');
const env = { CREDPORT_HTTP_RETRIES: '0' };
const credport = await openCredport({ home, env, extraConnectorDirs: [extras] });

// 1. Fill the store: 9,000 Front and 1,000 acme credentials (saved unverified: the store is what is measured).
let start = performance.now();
for (let i = 0; i < TOTAL; i++) {
  const acme = i % (TOTAL / ACME) === 0;
  await credport.credentials.create({
    connector: acme ? 'acme' : 'front',
    values: acme ? { name: `Acme ${i}`, token: `acme_token_${i}_abcdefgh` } : { name: `Front ${i}`, description: 'bench', apiKey: `front_token_${i}_abcdefghijkl` },
    verify: false,
  });
}
const fillMs = performance.now() - start;

// Baseline: the least any listing must do, one SQL read of the rows and a JSON.parse each.
const raw = new KeyvSqlite({ uri: `sqlite://${join(home, 'credport.sqlite')}` } as never);
const rawRows = async () => (await raw.query("SELECT key, value FROM keyv WHERE key LIKE 'credport:credential:%'")) as { value: string }[];
const baseAll = () => rawRows().then((r) => r.map((x) => JSON.parse(x.value).value));
const baseOne = () => baseAll().then((r) => r.filter((x: { connector: string }) => x.connector === 'acme'));

const listed = await credport.credentials.list();
if (listed.length !== TOTAL) throw new Error(`listed ${listed.length}, expected ${TOTAL}`);
if ((await credport.credentials.list({ connector: 'acme' })).length !== ACME) throw new Error('acme slice is wrong');
row(`list all ${TOTAL} tiles`, await median(7, () => credport.credentials.list()), await median(7, baseAll));
row(`list one connector (${ACME} of ${TOTAL})`, await median(7, () => credport.credentials.list({ connector: 'acme' })), await median(7, baseOne));
await raw.disconnect();

// 2. add: total time beside the verification request alone (a fresh got client per request, as add makes).
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
row('credentials.create (library), per add', addMs, verifyMs);
await credport.close();

// 3. The CLI as a user runs it: one process per add, beside one process that only sends GET /me.
const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const childEnv = { ...process.env, CREDPORT_HOME: home, CREDPORT_HTTP_RETRIES: '0', FRONT_TOKEN: token! };
const requestOnly = `fetch(${JSON.stringify(`${emulator.url}/me`)}, { headers: { authorization: 'Bearer ' + process.env.FRONT_TOKEN } }).then((r) => r.json())`;
const cliAdd = await median(CLI_ADDS, () => run(process.execPath, [cli, 'credentials', 'add', 'front', '--name', 'cli', '--base-url', emulator.url, '--secret-env', 'FRONT_TOKEN'], { env: childEnv }));
const nodeRequest = await median(CLI_ADDS, () => run(process.execPath, ['-e', requestOnly], { env: childEnv }));
row('`credport credentials add` process, wall clock', cliAdd, nodeRequest);
await emulator.stop();

console.log(`credport bench (node ${process.version}; store filled with ${TOTAL} credentials in ${(fillMs / 1000).toFixed(1)} s, ${(fillMs / TOTAL).toFixed(2)} ms each)\n`);
const header: [string, string, string, string] = ['measure', 'credport', 'baseline', 'ratio'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
console.log(`
baselines: list = one SQL SELECT of the same rows + JSON.parse each (the least a listing can do);
create = the verification request alone (got GET /me to the loopback emulator), so create - baseline
= ${(addMs - verifyMs).toFixed(2)} ms spent outside the verification request (validate, seal, SQLite write);
CLI = a node process that only sends GET /me, so the difference (${(cliAdd - nodeRequest).toFixed(0)} ms) is credport's start-up,
store opening and save outside the request.`);
await rm(home, { recursive: true, force: true });
await rm(extras, { recursive: true, force: true });
