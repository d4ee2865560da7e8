// The floor the many-syncs bench measures `credport worker` against: ONE process running one loop
// per token, each doing per page only what a sync must, on the packages credport must use. Per page:
// wait for the token's own spacing (one setTimeout), GET the page with got (one shared instance, JSON,
// keep-alive agent), append its records as JSONL through the loop's own FileHandle (positional
// write), save a small checkpoint with ONE keyv set on a shared Keyv(@keyv/sqlite). No validation, no
// encryption, no queue, no metrics: what is left is what 1,000 slow syncs cost at the least.
//   usage: node many-syncs-floor.mjs <emulator url> <tokens file (JSON array)> <out dir> <sqlite file> <per minute>
// Prints {"event":"ready"} once the store is open, starts every loop when a line arrives on stdin (the
// bench's measured time starts there), and {"event":"started","job":i} as each loop opens its file.
import { open } from 'node:fs/promises';
import { Agent } from 'node:http';
import { createInterface } from 'node:readline';
import KeyvSqlite from '@keyv/sqlite';
import got from 'got';
import Keyv from 'keyv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [base, tokensFile, outDir, sqliteFile, perMinuteArg] = process.argv.slice(2);
const tokens = JSON.parse(readFileSync(tokensFile, 'utf8'));
const perMinute = Number(perMinuteArg ?? 12);
const WINDOW_MS = 60_000;
const share = WINDOW_MS / perMinute;
// An experiment, off by default: BENCH_FLOOR_STAGGER_MS=5000 holds each loop's first request a random
// 0 to that many ms, so the token windows (which each open with their first request) stop opening together.
const staggerMs = Number(process.env.BENCH_FLOOR_STAGGER_MS ?? 0);

// The same store settings as credport's SQLite backend (WAL, synchronous NORMAL).
const adapter = new KeyvSqlite({ uri: `sqlite://${sqliteFile}`, busyTimeout: 30_000 });
await adapter.query('PRAGMA journal_mode=WAL');
await adapter.query('PRAGMA synchronous=NORMAL');
const keyv = new Keyv({ store: adapter, namespace: 'floor', serialize: JSON.stringify, deserialize: JSON.parse });

const agent = new Agent({ keepAlive: true });
// got retries what a sync must (a kept-alive socket the server closed as we reused it: ECONNRESET),
// but no status: a 429 must show in the emulator's count, and the loop below waits it out itself.
const client = got.extend({
  agent: { http: agent },
  responseType: 'json',
  retry: { limit: 2, statusCodes: [] },
  throwHttpErrors: false,
  timeout: { request: 30_000 },
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function loop(i) {
  const token = tokens[i];
  const headers = { authorization: `Bearer ${token}` };
  const file = await open(join(outDir, `out-${i}.jsonl`), 'w');
  try {
    await readPages(i, headers, file);
  } finally {
    await file.close();
  }
}

async function readPages(i, headers, file) {
  process.stdout.write(`{"event":"started","job":${i}}\n`);
  let url = `${base}/contacts?limit=100`;
  let pages = 0;
  let records = 0;
  let offset = 0;
  // This token's window as we see it. The provider's fixed window opens when the first request reaches
  // it, between our send and its answer: counting from the answer, our window never starts before
  // the provider's, so the next window's first request never lands in the old one (a 429). With a
  // saturated loop the gap is hundreds of ms: counting from the send drew 1,138 429s in 36,000.
  let windowAt; // undefined: the next request opens a window
  let sent = 0;
  if (staggerMs > 0) await sleep(Math.random() * staggerMs);
  while (url) {
    const now = Date.now();
    let at = now;
    if (windowAt !== undefined && sent >= perMinute) at = windowAt + WINDOW_MS;
    // Request k of a window goes at random in the middle of its share of 0.9 of the window: spread
    // (syncs that started together do not send together), and done well before the window turns.
    else if (windowAt !== undefined) at = windowAt + (sent + 0.25 + Math.random() / 2) * share * 0.9;
    if (at > now) await sleep(at - now);
    if (windowAt !== undefined && (sent >= perMinute || Date.now() >= windowAt + WINDOW_MS)) windowAt = undefined;
    const response = await client(url, { headers });
    if (response.statusCode === 429) {
      // Should not happen (the spacing stays under the limit); wait as told, then open a new window.
      await sleep(Number(response.headers['retry-after'] ?? 1) * 1000);
      windowAt = undefined;
      continue;
    }
    if (windowAt === undefined) {
      windowAt = Date.now();
      sent = 0;
    }
    sent += 1;
    if (response.statusCode !== 200) throw new Error(`page answered ${response.statusCode}`);
    const page = response.body;
    let text = '';
    for (const record of page._results) text += `${JSON.stringify(record)}\n`;
    const { bytesWritten } = await file.write(text, offset, 'utf8');
    offset += bytesWritten;
    pages += 1;
    records += page._results.length;
    url = page._pagination?.next ?? null;
    await keyv.set(`checkpoint:${i}`, { next: url, pages, records, offset });
  }
}

// The bench ends us with SIGTERM: exit normally, so that --cpu-prof / --heap-prof write their profile.
process.on('SIGTERM', () => process.exit(0));
// The bench may stop reading before we stop writing: no EPIPE crash then.
process.stdout.on('error', () => {});
process.stdout.write('{"event":"ready"}\n');
const lines = createInterface({ input: process.stdin });
await new Promise((resolve) => lines.once('line', resolve));
lines.close();
const loops = tokens.map((_, i) =>
  loop(i).catch((error) => {
    process.stdout.write(`${JSON.stringify({ event: 'failed', job: i, error: `${error?.code ?? ''} ${error?.message ?? error}` })}\n`);
  }),
);
await Promise.all(loops);
await keyv.disconnect();
