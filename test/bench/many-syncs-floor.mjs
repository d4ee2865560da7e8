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
// The emulator's fixed window opens when a token's first request reaches it, a little after we sent
// it: the next window's first request waits this much past a whole window, so it never lands in the old one.
const TURN_MARGIN_MS = 250;
const share = WINDOW_MS / perMinute;

// The same store settings as credport's SQLite backend (WAL, synchronous NORMAL).
const adapter = new KeyvSqlite({ uri: `sqlite://${sqliteFile}`, busyTimeout: 30_000 });
await adapter.query('PRAGMA journal_mode=WAL');
await adapter.query('PRAGMA synchronous=NORMAL');
const keyv = new Keyv({ store: adapter, namespace: 'floor', serialize: JSON.stringify, deserialize: JSON.parse });

const agent = new Agent({ keepAlive: true });
// No retries: a 429 must show in the emulator's count, and the loop below waits it out itself.
const client = got.extend({
  agent: { http: agent },
  responseType: 'json',
  retry: { limit: 0 },
  throwHttpErrors: false,
  timeout: { request: 30_000 },
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function loop(i) {
  const token = tokens[i];
  const headers = { authorization: `Bearer ${token}` };
  const file = await open(join(outDir, `out-${i}.jsonl`), 'w');
  process.stdout.write(`{"event":"started","job":${i}}\n`);
  let url = `${base}/contacts?limit=100`;
  let pages = 0;
  let records = 0;
  let offset = 0;
  // This token's window as we see it: when its first request went, and how many went in it.
  let windowAt = 0;
  let sent = 0;
  while (url) {
    const now = Date.now();
    let at;
    if (sent >= perMinute || now >= windowAt + WINDOW_MS) at = Math.max(now, windowAt + WINDOW_MS + TURN_MARGIN_MS);
    // Request k of a window goes in the first half of its even share, at random: spread, and done before the window turns.
    else at = windowAt + sent * share + Math.random() * (share / 2);
    if (at > now) await sleep(at - now);
    if (sent >= perMinute || Date.now() >= windowAt + WINDOW_MS) {
      windowAt = Date.now();
      sent = 0;
    }
    sent += 1;
    const response = await client(url, { headers });
    if (response.statusCode === 429) {
      // Should not happen (the spacing stays under the limit); wait as told, then ask again.
      await sleep(Number(response.headers['retry-after'] ?? 1) * 1000);
      continue;
    }
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
  await file.close();
}

// The bench ends us with SIGTERM: exit normally, so that --cpu-prof / --heap-prof write their profile.
process.on('SIGTERM', () => process.exit(0));
process.stdout.write('{"event":"ready"}\n');
const lines = createInterface({ input: process.stdin });
await new Promise((resolve) => lines.once('line', resolve));
lines.close();
const loops = tokens.map((_, i) =>
  loop(i).catch((error) => {
    process.stdout.write(`${JSON.stringify({ event: 'failed', job: i, error: String(error?.message ?? error) })}\n`);
  }),
);
await Promise.all(loops);
await keyv.disconnect();
