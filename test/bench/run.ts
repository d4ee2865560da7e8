// npm run bench: credport's figures beside a baseline measured in the same run, as ratios
// (these machines are noisy; absolute figures are for orientation only).
// BENCH_QUICK=1 skips the slow parts (1,000,000 records, the rate-limited minute).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeConnector } from '../helpers/connector-fixtures.js';
import { apiBench } from './api-bench.js';
import { clientBench } from './client-bench.js';
import { concurrencyCost, rateUnderLimit } from './concurrency-bench.js';
import { connectBench } from './connect-bench.js';
import { connectBundleBench } from './connect-bundle-bench.js';
import { credentialBench, type Row } from './credentials-bench.js';
import { keysBench } from './keys-bench.js';
import { manySyncsBench, manySyncsLine, manySyncsRatios } from './many-syncs-bench.js';
import { reverifyBench } from './reverify-bench.js';
import { startupBench } from './startup-bench.js';
import { webhookBench } from './webhook-bench.js';
import { storeBench } from './store-bench.js';
import { syncPeakRss, syncThroughput, syncUnderRateLimit } from './sync-bench.js';
import { workersBench } from './workers-bench.js';
import { writeThroughput } from './write-bench.js';

const quick = process.env.BENCH_QUICK === '1';
const fresh = () => mkdtemp(join(tmpdir(), 'credport-bench-'));
const homes: string[] = [];
const home = async () => {
  const dir = await fresh();
  homes.push(dir);
  return dir;
};

function table(rows: Row[], ratioLabel = 'ratio'): string {
  const cells = rows.map((r) => [r.what, `${r.ours.toFixed(2)} ${r.unit}`, `${r.base.toFixed(2)} ${r.unit}`, (r.ours / r.base).toFixed(2)]);
  const header = ['measure', 'credport', 'baseline', ratioLabel];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [header, ...cells].map((c) => c.map((x, i) => x.padEnd(widths[i]!)).join('  ')).join('\n');
}

// First, while nothing else of the bench has warmed or loaded the machine.
const startup = await startupBench(await home(), quick ? 11 : 31);
console.log(`credport bench (node ${process.version})\n`);
console.log('## start-up: wall clock of one process, medians of interleaved runs\n');
console.log(table(startup, 'x node -e 0'));
console.log('\ngoals: --help at most 2x node -e 0, credentials list at most 2.5x.\n');

{
  // No load on the machine: sizes of the built web app (npm run bench builds it first).
  const bundle = await connectBundleBench();
  console.log('## Connect page bundle: JavaScript, gzipped (zlib default level), from the Vite manifest\n');
  console.log(table(bundle.rows, 'x goal'));
  console.log(`\nbefore the first tile: ${bundle.firstTile.map((c) => `${c.file} ${c.kb.toFixed(1)} KiB`).join(', ')}`);
  console.log('goals: a pick session at most 80 KiB before its first tile (the form renderer loads when an overlay opens);');
  console.log('the whole Connect page at most 170 KiB, the web app of today (the last row, for reference).\n');
}

const extras = await home();
await writeConnector(extras, 'acme');
const creds = await credentialBench(await home(), extras);
console.log(
  `## credentials (store filled with 10,000 in ${(creds.fillMs / 1000).toFixed(1)} s, ${(creds.fillMs / 10_000).toFixed(2)} ms each)\n`,
);
console.log(table(creds.rows));
console.log(`
list baseline: one SQL SELECT of the same rows + JSON.parse each (the least a listing can do).
create baseline: the verification request alone, so ${(creds.addMs - creds.verifyMs).toFixed(2)} ms of each add is spent outside it (validate, seal, SQLite write).
CLI baseline: a node process that only sends GET /me, so ${(creds.cliAdd - creds.nodeRequest).toFixed(0)} ms is credport's start-up, store opening and save.`);

const stores = await storeBench(await home(), extras);
console.log(
  `\n## stores: listing tiles on each store (filled at ${Object.entries(stores.fills)
    .map(([k, ms]) => `${k} ${ms.toFixed(2)} ms`)
    .join(', ')} a credential)\n`,
);
console.log(table(stores.rows));
console.log(
  "\ngoal: at most 3x. Baselines: the raw query of the same rows on that server and a JSON.parse each (Redis: the connector's id set and one MGET).",
);

{
  const KEYS_TOTAL = 10_000;
  console.log(
    `\n## master-key rotation: ${KEYS_TOTAL.toLocaleString('en')} credentials re-sealed under a new key (credport keys rotate), medians of 3 rotations\n`,
  );
  const rows: Row[] = [];
  for (const store of ['sqlite', 'postgres', 'redis'] as const) {
    const r = await keysBench(await home(), store, KEYS_TOTAL, 3);
    rows.push({ what: `rotate on ${store}`, ours: r.rotateMs, base: r.loopMs, unit: 'ms' });
  }
  console.log(table(rows));
  console.log('\ngoal: at most 3x. Baseline: the same records decrypted and encrypted in memory, in a loop (no store).');
}

{
  const [total, perSecond] = quick ? [300, 100] : [1_000, 100];
  const r = await reverifyBench(await home(), total, perSecond);
  console.log(
    `\n## re-verification: ${total.toLocaleString('en')} stale credentials re-tested against the Front emulator limited to ${perSecond} requests a second\n`,
  );
  console.log(
    `${r.requestsPerSecond.toFixed(1)} requests a second in ${(r.ms / 1000).toFixed(1)} s: ${r.ofLimit.toFixed(2)} of the limit; 429s: ${r.rateLimited}`,
  );
  console.log('goal: at least 0.95 of the limit. (A fixed window lets the last one end early, so a pass can read a little above 1.)');
}

const api = await apiBench(await home(), extras, quick ? 1 : 3);
console.log('\n## HTTP API: `credport serve` under autocannon (10 connections, 5 s a round, medians of alternating rounds)\n');
const apiCells = api.map((r) => [
  r.what,
  `${r.ours.rps.toFixed(0)} req/s, p99 ${r.ours.p99} ms`,
  `${r.base.rps.toFixed(0)} req/s, p99 ${r.base.p99} ms`,
  (r.ours.rps / r.base.rps).toFixed(2),
]);
const apiHeader = ['measure', 'credport serve', 'bare node:http', 'rate ratio'];
const apiWidths = apiHeader.map((h, i) => Math.max(h.length, ...apiCells.map((c) => c[i]!.length)));
console.log([apiHeader, ...apiCells].map((c) => c.map((x, i) => x.padEnd(apiWidths[i]!)).join('  ')).join('\n'));
console.log(
  '\ngoal: at least 0.5 of the baseline rate for both. Baselines: test/bench/bare-api-baseline.mjs (the raw SQL SELECT of the same rows, serialised; the same GET /me, answered).',
);
console.log(
  'The third row is not credport: it is the bare POST rebuilt on got and keyv/SQLite, beside the bare one, so its ratio bounds what credport can reach on those packages.',
);

{
  // This one is noisy on a shared machine: more, shorter rounds than the API bench, and their medians.
  const rows = await connectBench(await home(), quick ? 3 : 5, 2_000);
  console.log(
    '\n## connect sessions: mint (POST /connect/sessions) + exchange (POST /connect/exchange), `credport serve` on SQLite, medians of alternating rounds\n',
  );
  console.log(table(rows.map((r) => ({ ...r, unit: 'ops/s' }))));
  console.log(
    '\ngoal: at least 0.5 of the baseline. Baseline: test/bench/bare-connect-baseline.mjs, bare node:http doing the same parsing, ' +
      'SHA-256 hashing and keyv/SQLite writes (no validation, no compare-and-swap, no audit events, no framework).',
  );
}

{
  const row = await clientBench(await home(), quick ? 3 : 7);
  console.log('\n## credport/client: the same listing through the typed client and through fetch, one process, one server\n');
  console.log(table([row], 'x raw fetch'));
  console.log(
    '\ngoal: within 1.2x. Baseline: fetch of GET /api/v1/credentials?connector=front and its JSON, following its Link to the second page, 50 listings a round, medians.',
  );
}

const RECORDS = 250_000;
const ROUNDS = quick ? 1 : 5;
const throughput = await syncThroughput(await home(), RECORDS, ROUNDS);
console.log(
  `\n## sync: contacts to JSONL on loopback, emulator rate limit off (${RECORDS.toLocaleString('en')} records, ${ROUNDS} alternating rounds)\n`,
);
console.log(
  `credport sync: ${throughput.oursRps.toFixed(0)} records/s; bare got loop: ${throughput.baseRps.toFixed(0)} records/s (medians)`,
);
console.log(
  `ratio credport/baseline, median of paired runs: ${throughput.ratio.toFixed(2)} (goal >= 0.9; each pair: ${throughput.ratios.map((r) => r.toFixed(2)).join(', ')})`,
);
console.log(
  'baseline: test/bench/got-loop-baseline.mjs, a bare got loop fetching the same pages and writing the same file (no checkpoint, no limiter, no prefetch).',
);

const small = await syncPeakRss(await home(), 100_000);
const large = quick ? undefined : await syncPeakRss(await home(), 1_000_000);
console.log('\n## sync: peak RSS of the `credport sync` process (GNU time)\n');
if (small === undefined) console.log('n/a: /usr/bin/time is missing (Debian package "time")');
else {
  console.log(`100,000 records:   ${(small / 1024).toFixed(1)} MiB`);
  console.log(
    large === undefined
      ? '1,000,000 records: skipped (BENCH_QUICK=1)'
      : `1,000,000 records: ${(large / 1024).toFixed(1)} MiB (ratio ${(large / small).toFixed(2)}, goal <= 1.2)`,
  );
}

if (!quick) {
  const R = 600;
  const limited = await syncUnderRateLimit(await home(), R, 6_000, 5);
  console.log(`\n## sync under a rate limit of R = ${R} requests a minute (enforced as ${R / 10} per 6-second window, 5 windows)\n`);
  console.log(
    `achieved: ${limited.achieved.toFixed(0)} requests a minute (${(limited.achieved / R).toFixed(3)} of R, goal >= 0.95); 429s received: ${limited.rateLimited}`,
  );
}

{
  const W = quick ? 2 : 5;
  const limit = { perMinute: 1000, windowMs: 6_000, windows: W, latencyMs: 200 };
  const paged = await rateUnderLimit(await home(), 'pager', limit);
  const cursor = await rateUnderLimit(await home(), 'front', limit);
  console.log(
    `\n## concurrent streams: 3 streams, 200 ms a page, a limit of 1,000 requests a minute (100 per 6-second window, ${W} windows)\n`,
  );
  console.log(
    `page numbers (pages ahead), concurrency 8: ${paged.achieved.toFixed(0)} requests a minute, ${paged.ofLimit.toFixed(3)} of the limit (goal >= 0.9); 429s: ${paged.rateLimited}; most in flight: ${paged.maxInFlight}`,
  );
  console.log(
    `Front cursors (one page a stream), concurrency 4: ${cursor.achieved.toFixed(0)} requests a minute, ${cursor.ofLimit.toFixed(3)} of the limit; 429s: ${cursor.rateLimited}; most in flight: ${cursor.maxInFlight}`,
  );
  console.log(
    '  (three cursor streams at 200 ms a page can make at most 15 requests a second, 0.9 of this limit: a cursor names the next page only in its answer)',
  );
  const cost = await concurrencyCost(await home(), ROUNDS);
  console.log(
    `\n## concurrent streams, no latency, no limit: tags, contacts, conversations (30,000 records each), ${ROUNDS} alternating rounds\n`,
  );
  console.log(
    `side by side (--concurrency 4): ${cost.sideRps.toFixed(0)} records/s; one after another (--concurrency 1): ${cost.oneRps.toFixed(0)} records/s`,
  );
  console.log(
    `ratio, median of paired runs: ${cost.ratio.toFixed(2)} (goal >= 0.95; each pair: ${cost.ratios.map((r) => r.toFixed(2)).join(', ')})`,
  );
}

const WRITES = 5_000;
const writes = await writeThroughput(await home(), WRITES, ROUNDS);
console.log(
  `\n## writes: JSONL file -> Front contacts on loopback, emulator rate limit off (${WRITES.toLocaleString('en')} records, ${ROUNDS} alternating rounds)\n`,
);
console.log(`credport sync: ${writes.oursRps.toFixed(0)} records/s; bare got POST loop: ${writes.baseRps.toFixed(0)} records/s (medians)`);
console.log(
  `ratio credport/baseline, median of paired runs: ${writes.ratio.toFixed(2)} (each pair: ${writes.ratios.map((r) => r.toFixed(2)).join(', ')})`,
);
console.log('baseline: test/bench/got-post-baseline.mjs posts the same bodies one by one (no validation, no write ledger, no checkpoint).');

{
  const EVENTS = 10_000;
  const hooks = await webhookBench(await home(), EVENTS, quick ? 1 : 3);
  console.log(
    `\n## webhooks: a burst of ${EVENTS.toLocaleString('en')} events in the outbox delivered to one endpoint on a loopback receiver answering 204 (SQLite store, ${quick ? 1 : 3} alternating rounds)\n`,
  );
  console.log(
    `credport deliverWebhooksNow(): ${hooks.oursEps.toFixed(0)} events/s; bare sign + got POST loop: ${hooks.baseEps.toFixed(0)} events/s (medians)`,
  );
  console.log(
    `ratio credport/baseline, median of paired runs: ${hooks.ratio.toFixed(2)} (goal >= 0.7; each pair: ${hooks.ratios.map((r) => r.toFixed(2)).join(', ')})`,
  );
  const rssGoal = 1.2 * hooks.idleMiB + 50;
  console.log(
    `RSS of the delivering process: idle ${hooks.idleMiB.toFixed(1)} MiB, peak during the burst ${hooks.peakMiB.toFixed(1)} MiB (sampled every 50 ms; goal <= 1.2 x idle + 50 MiB = ${rssGoal.toFixed(1)} MiB)`,
  );
  console.log(
    `(writing the burst to the outbox took ${hooks.writeS.toFixed(1)} s, outside the timed delivery.) Baseline: test/bench/webhook-post-baseline.mjs signs the same bodies with standardwebhooks and POSTs them with got, one at a time (no outbox, no store, no lease).`,
  );
}

{
  const RECORDS_A_SYNC = quick ? 5_000 : 20_000;
  console.log(
    `\n## workers: 8 syncs of ${RECORDS_A_SYNC.toLocaleString('en')} records on distinct credentials, the rate limit off, one PostgreSQL store and one Redis queue\n`,
  );
  for (const latencyMs of [0, 20]) {
    const rows = await workersBench(await home(), RECORDS_A_SYNC, latencyMs);
    const one = rows[0]!.rps;
    console.log(
      `provider answering ${latencyMs === 0 ? 'at once' : `in ${latencyMs} ms a page`}: ${rows.map((r) => `${r.workers} worker${r.workers === 1 ? '' : 's'} ${r.rps.toFixed(0)} records/s (${(r.rps / one).toFixed(2)}x)`).join('; ')}`,
    );
  }
  console.log(
    'goal: 4 workers at least 1.6x one worker on this 2-core machine (each worker is a process; the emulator, PostgreSQL and Redis share the same two cores).',
  );
}

{
  // Quick: 100 syncs for 30 s, to try a change; the figures that count are the full run's.
  const [syncs, measureMs] = quick ? [100, 30_000] : [1_000, 180_000];
  console.log(
    `\n## many syncs on one worker: ${syncs.toLocaleString('en')} syncs at once in one \`credport worker\`, each on its own credential, the emulator limiting each to 12 requests a minute with 100 ms a page; measured over ${measureMs / 1000} s\n`,
  );
  const worker = await manySyncsBench(await home(), { syncs, perMinute: 12, latencyMs: 100, measureMs });
  console.log(manySyncsLine(worker));
  // The same work done by the least code on the same packages, in the same run: what the goals leave for credport.
  const floor = await manySyncsBench(await home(), { syncs, perMinute: 12, latencyMs: 100, measureMs, floor: true });
  console.log(manySyncsLine(floor));
  console.log(manySyncsRatios(worker, floor));
  console.log(
    'goals: at least 0.95 of the limits, no 429, peak RSS at most 350 MiB, CPU at most 0.25 of a core, event loop p99 at most 50 ms.',
  );
  console.log(
    'The floor (test/bench/many-syncs-floor.mjs) runs one loop a token in one process: its own spacing (one setTimeout a page), a GET with one shared got instance (JSON, keep-alive agent), the page appended as JSONL through one FileHandle, one keyv set of a checkpoint on Keyv(@keyv/sqlite). No validation, encryption, queue or metrics.',
  );
}

await Promise.all(homes.map((dir) => rm(dir, { recursive: true, force: true })));
