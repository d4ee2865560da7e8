// Connect figures for npm run bench: minting a connect session and exchanging its token, through
// `credport serve`'s HTTP API (SQLite, loopback), beside a bare node:http server doing the same
// work on the same kind of store (bare-connect-baseline.mjs). One operation is the pair of
// requests a host's back end and the Connect page make: POST /connect/sessions, then
// POST /connect/exchange with the token it answered. Measured one at a time and 10 at a time.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { child } from './api-bench.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const BARE = fileURLToPath(new URL('./bare-connect-baseline.mjs', import.meta.url));
const TOKEN = 'bench-api-token-0123456789abcdefghij';
const SESSION = JSON.stringify({ endUser: { id: 'user-42' }, allowedOrigins: ['https://app.example.com'], connectors: ['front'] });

export interface ConnectRow {
  what: string;
  /** Operations (mint + exchange) a second, medians of alternating rounds. */
  ours: number;
  base: number;
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, json: await response.json() };
}

/** One mint and its exchange; any answer other than 201 then 200 stops the bench (a fast refusal is no figure). */
async function operation(server: string): Promise<void> {
  const minted = await post(`${server}/api/v1/connect/sessions`, SESSION, { authorization: `Bearer ${TOKEN}` });
  if (minted.status !== 201) throw new Error(`${server}: minting answered ${minted.status} ${JSON.stringify(minted.json)}`);
  const { token } = minted.json as { token: string };
  const exchanged = await post(`${server}/api/v1/connect/exchange`, JSON.stringify({ token }));
  if (exchanged.status !== 200) throw new Error(`${server}: the exchange answered ${exchanged.status} ${JSON.stringify(exchanged.json)}`);
}

/** Operations a second over `ms`, with `concurrency` loops each doing one operation after another. */
async function rate(server: string, concurrency: number, ms: number): Promise<number> {
  const until = performance.now() + ms;
  const started = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await operation(server);
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function connectBench(home: string, rounds: number, ms = 3_000): Promise<ConnectRow[]> {
  const env = { CREDPORT_HOME: home, CREDPORT_API_TOKEN: TOKEN, BENCH_API_TOKEN: TOKEN };
  const server = await child([CLI, 'serve', '--port', '0', '--json'], env);
  const bare = await child([BARE, join(home, 'bare-connect.sqlite')], env);
  const ours = String(server.info.url);
  const base = String(bare.info.url);
  const rows: ConnectRow[] = [];
  try {
    // Warm both (JIT, the store's first writes) before anything is counted.
    await rate(ours, 2, 500);
    await rate(base, 2, 500);
    for (const concurrency of [1, 10]) {
      const a: number[] = [];
      const b: number[] = [];
      // Alternating rounds: a noisy neighbour hurts both sides alike.
      for (let i = 0; i < rounds; i++) {
        a.push(await rate(ours, concurrency, ms));
        b.push(await rate(base, concurrency, ms));
      }
      rows.push({
        what: `mint + exchange, ${concurrency === 1 ? 'one at a time' : `${concurrency} at a time`}`,
        ours: median(a),
        base: median(b),
      });
    }
  } finally {
    await Promise.all([server.stop(), bare.stop()]);
  }
  return rows;
}
