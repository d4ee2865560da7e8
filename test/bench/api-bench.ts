// API figures for npm run bench: requests a second and p99 latency of `credport serve` under
// autocannon, each beside a bare node:http server doing the least the same request needs.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { openCredport } from '../../src/open-credport.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const BARE = fileURLToPath(new URL('./bare-api-baseline.mjs', import.meta.url));
const TOKEN = 'bench-api-token-0123456789abcdefghij';

export interface ApiRow {
  what: string;
  ours: { rps: number; p99: number };
  base: { rps: number; p99: number };
}

/** Starts a child that prints a JSON object with its url (credport serve --json, the baseline, an emulator). */
export async function child(args: string[], env: NodeJS.ProcessEnv): Promise<{ info: Record<string, unknown>; stop: () => Promise<void> }> {
  const proc: ChildProcess = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let text = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      // One JSON line (serve --json), or one pretty-printed object (emulate --json).
      for (const candidate of [text, ...text.split('\n')]) {
        try {
          const parsed = JSON.parse(candidate) as Record<string, unknown>;
          if (typeof parsed.url === 'string') return resolve(parsed);
        } catch {
          // not whole yet
        }
      }
    });
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return {
    info,
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

async function load(options: autocannon.Options): Promise<{ rps: number; p99: number; non2xx: number }> {
  const result = await autocannon({ connections: 10, duration: 5, ...options });
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx + result.errors };
}

/** Alternating rounds, so a noisy neighbour hurts both sides alike; medians of each side. */
async function compare(
  rounds: number,
  ours: () => Promise<{ rps: number; p99: number; non2xx: number }>,
  base: () => Promise<{ rps: number; p99: number; non2xx: number }>,
) {
  const a: { rps: number; p99: number }[] = [];
  const b: { rps: number; p99: number }[] = [];
  for (let i = 0; i < rounds; i++) {
    const x = await ours();
    const y = await base();
    if (x.non2xx > 0 || y.non2xx > 0) throw new Error(`the bench got error answers (credport ${x.non2xx}, baseline ${y.non2xx})`);
    a.push(x);
    b.push(y);
  }
  const median = (xs: number[]) => xs.sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
  return {
    ours: { rps: median(a.map((r) => r.rps)), p99: median(a.map((r) => r.p99)) },
    base: { rps: median(b.map((r) => r.rps)), p99: median(b.map((r) => r.p99)) },
  };
}

export async function apiBench(home: string, extras: string, rounds: number): Promise<ApiRow[]> {
  const rows: ApiRow[] = [];
  const env = {
    CREDPORT_HOME: home,
    CREDPORT_API_TOKEN: TOKEN,
    CREDPORT_CONNECTORS: extras,
    CREDPORT_HTTP_RETRIES: '0',
    BENCH_API_TOKEN: TOKEN,
  };
  // A store of 10,000 credentials, 1,000 of them Front's (saved unverified: the listing is measured).
  const credport = await openCredport({ home, env: {}, extraConnectorDirs: [extras] });
  for (let i = 0; i < 10_000; i++) {
    const front = i % 10 === 0;
    await credport.credentials.create({
      connector: front ? 'front' : 'acme',
      values: front
        ? { name: `Front ${i}`, description: 'bench', apiKey: `front_token_${i}_abcdefghijkl` }
        : { name: `Acme ${i}`, token: `acme_token_${i}_abcdefgh` },
      verify: false,
    });
  }
  await credport.close();

  const emulator = await child([CLI, 'emulate', 'front', '--json'], env);
  // BENCH_PROF=<dir>: the serve's CPU profile goes there (where a create's time goes: it is mostly idle, waiting).
  const prof = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
  const server = await child([...prof, CLI, 'serve', '--port', '0', '--json', '--verify-limit', '1000000'], env);
  const bareList = await child([BARE, 'list', join(home, 'credport.sqlite')], env);
  const bareVerify = await child([BARE, 'verify', String(emulator.info.url)], env);
  const floor = await child([BARE, 'verify-got-store', String(emulator.info.url), join(home, 'floor.sqlite')], env);
  try {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const list = await compare(
      rounds,
      () => load({ url: `${server.info.url}/api/v1/credentials?connector=front&limit=500`, headers }),
      () => load({ url: `${bareList.info.url}/api/v1/credentials?connector=front&limit=500`, headers }),
    );
    rows.push({ what: 'GET /api/v1/credentials?connector=front&limit=500 (a page of 1,000 of 10,000)', ...list });
    const token = (emulator.info.tokens as string[])[0]!;
    const body = JSON.stringify({ connector: 'front', baseUrl: emulator.info.url, values: { name: 'Bench', apiKey: token } });
    const post = { method: 'POST' as const, headers: { ...headers, 'content-type': 'application/json' }, body };
    const create = await compare(
      rounds,
      () => load({ url: `${server.info.url}/api/v1/credentials`, ...post }),
      () => load({ url: `${bareVerify.info.url}/api/v1/credentials`, ...post }),
    );
    rows.push({ what: 'POST /api/v1/credentials (GET /me on the loopback emulator)', ...create });
    // Where the rest goes: the same baseline, but on the packages credport must use (got, keyv on
    // SQLite), beside the bare one. Its ratio is the most credport could reach on them.
    const onPackages = await compare(
      rounds,
      () => load({ url: `${floor.info.url}/api/v1/credentials`, ...post }),
      () => load({ url: `${bareVerify.info.url}/api/v1/credentials`, ...post }),
    );
    rows.push({ what: 'the same least POST on got and keyv/SQLite (no validation, sealing, framework)', ...onPackages });
  } finally {
    await Promise.all([server.stop(), bareList.stop(), bareVerify.stop(), floor.stop(), emulator.stop()]);
  }
  return rows;
}
