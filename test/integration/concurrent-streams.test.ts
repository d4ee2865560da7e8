import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FrontEmulator, type FrontEmulatorOptions } from '../../src/emulator/front-emulator.js';
import { openCredport, type Credport } from '../../src/open-credport.js';
import { SyncCancelledError } from '../../src/errors.js';
import type { SyncEvent } from '../../src/generated/sync-event.js';
import { writeConnector } from '../helpers/connector-fixtures.js';
import { PagedProvider, writePagerConnector } from '../helpers/paged-provider.js';
import { RecordingProxy } from '../helpers/recording-proxy.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';
import { testStoreUri } from '../helpers/test-store.js';

/**
 * A source's streams read side by side within the credential's budget, against the Front emulator
 * with a latency and a fixed window, seen through a proxy that logs what reached the provider.
 * `pacer` is Front's manifest with a one-second window, so the summary's rate has a limit to meet.
 */
const STREAMS = ['tags', 'contacts', 'conversations'];
const WINDOW_MS = 1000;

let home: string;
let storeUri: string | undefined;
let credport: Credport;
let emulator: FrontEmulator;
let proxy: RecordingProxy;

beforeEach(async () => {
  home = await tempHome();
  storeUri = await testStoreUri();
  proxy = await RecordingProxy.start(() => emulator.url);
});

afterEach(async () => {
  await credport?.close();
  await proxy.stop();
  await emulator?.stop();
  await removeHome(home);
});

async function setUp(options: FrontEmulatorOptions, connector = 'front'): Promise<{ source: string; destination: string; out: string }> {
  emulator = await new FrontEmulator({ ...options, nextOrigin: proxy.url }).start();
  const extras = join(home, 'connectors');
  await writeConnector(extras, 'pacer', (manifest) => {
    Object.assign(manifest, JSON.parse(FRONT_PARTS));
    (manifest.http as Record<string, unknown>).rateLimit = { window: 'fixed', windowMs: WINDOW_MS };
  });
  credport = await openCredport({ home, storeUri, env: {}, extraConnectorDirs: [extras] });
  const values =
    connector === 'front' ? { name: 'Front', apiKey: [...emulator.tokens][0]! } : { name: 'Pacer', token: [...emulator.tokens][0]! };
  const tile = await credport.credentials.create({ connector, values, baseUrl: proxy.url, verify: false });
  const source = await credport.configs.addSource({ name: 'Front', connector, credentialId: tile.id, streams: STREAMS });
  const out = join(home, 'out');
  const destination = await credport.configs.addDestination({ name: 'Files', connector: 'jsonl', path: out });
  return { source: source.id, destination: destination.id, out };
}

/** Front's streams and error envelope, for the pacer fixture. */
const FRONT_PARTS = (() => {
  const front = JSON.parse(readFileSync(new URL('../../connectors/front/manifest.json', import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
  return JSON.stringify({ streams: front.streams, errors: front.errors });
})();

async function idsIn(out: string, stream: string): Promise<string[]> {
  const text = await readFile(join(out, `${stream}.jsonl`), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { id: string }).id);
}

async function expectEachOnce(out: string, records: number): Promise<void> {
  for (const stream of STREAMS) {
    const ids = await idsIn(out, stream);
    expect(ids).toHaveLength(records);
    expect(new Set(ids).size).toBe(records);
  }
}

const listPaths = () => proxy.paths().filter((p) => STREAMS.includes(p.slice(1)));

describe('streams read side by side', () => {
  it('keeps up to the concurrency in flight under a fixed window, and draws no 429', async () => {
    // 20 requests a second window; 10 pages per stream, 40 ms each.
    const { source, destination, out } = await setUp({ records: 1000, latencyMs: 40, rateLimit: 20, rateWindowMs: WINDOW_MS });
    const events: SyncEvent[] = [];
    const summary = await credport.syncs.run(source, destination, { concurrency: 4, onEvent: (e) => events.push(e) });
    await expectEachOnce(out, 1000);
    expect(emulator.stats.maxInFlight).toBeGreaterThan(1);
    expect(emulator.stats.maxInFlight).toBeLessThanOrEqual(3); // three cursor streams: one page each at a time
    // The budget holds requests once the window has nothing left: the provider never refuses one.
    expect(emulator.stats.rateLimited).toBe(0);
    expect(proxy.log.every((e) => e.status === 200)).toBe(true);
    expect(summary.rate?.requests).toBe(30);
    expect(events[0]).toMatchObject({ event: 'started', concurrency: 4 });
    // Every stream started before any finished: they ran side by side.
    const firstFinish = events.findIndex((e) => e.event === 'stream_finished');
    expect(events.slice(0, firstFinish).filter((e) => e.event === 'stream_started')).toHaveLength(3);
  });

  it('never goes past the provider limit however high the concurrency, and says the rate it reached against it', async () => {
    const { source, destination, out } = await setUp({ records: 1000, latencyMs: 10, rateLimit: 10, rateWindowMs: WINDOW_MS }, 'pacer');
    const summary = await credport.syncs.run(source, destination, { concurrency: 32 });
    await expectEachOnce(out, 1000);
    expect(emulator.stats.rateLimited).toBe(0);
    expect(summary.rate).toMatchObject({ requests: 30, limitPerMinute: 600 });
    expect(summary.rate!.ofLimit).toBeGreaterThan(0);
    // Counted per provider window, never above 1.0 with no 429: at most 30 requests in the 10-request windows they met.
    expect(summary.rate!.ofLimit).toBeLessThanOrEqual(1);
    expect(summary.rate!.ofLimit).toBeGreaterThanOrEqual(0.5);
    expect(summary.rate!.perMinute).toBeLessThanOrEqual(Math.round((30 * 60_000) / Math.max(1, summary.ms - 1000)));
    expect(summary.rate!.perMinute).toBeGreaterThanOrEqual(Math.round((30 * 60_000) / (summary.ms + 1000)));
  });

  it("keeps an incremental stream's file across runs and writes the others whole again", async () => {
    const { source, destination, out } = await setUp({ records: 120 });
    await credport.syncs.run(source, destination);
    const second = await credport.syncs.run(source, destination);
    // Nothing changed in Front: contacts asks only for newer ones and appends none; the file keeps the first run's.
    expect(second.streams.contacts!.records).toBeLessThan(120);
    await expectEachOnce(out, 120);
  });

  it('names the scope a stream needs when the provider answers 403', async () => {
    const { source, destination } = await setUp({ records: 300, forbidden: ['contacts'] });
    const error = (await credport.syncs.run(source, destination, { concurrency: 3 }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(
      /^Front rejected the credential: 403 Forbidden: You do not have the permission to access this resource \(GET \/contacts[^)]*\); stream contacts needs the scope contacts:read on the token$/,
    );
  });

  it('pauses every stream of the credential when one of them draws a 429, until the wait is over', async () => {
    // Every 7th request is refused as a burst: "retry in 150 milliseconds".
    const { source, destination, out } = await setUp({ records: 800, latencyMs: 20, burstEvery: 7 });
    const events: SyncEvent[] = [];
    const summary = await credport.syncs.run(source, destination, { concurrency: 3, onEvent: (e) => events.push(e) });
    await expectEachOnce(out, 800);
    const refusals = proxy.log.filter((e) => e.status === 429);
    expect(refusals.length).toBeGreaterThan(0);
    expect(summary.rateLimited).toBe(refusals.length);
    // Each said as a wait of the stream that met it.
    const waits = events.filter((e): e is Extract<SyncEvent, { event: 'rate_limited' }> => e.event === 'rate_limited');
    expect(waits).toHaveLength(refusals.length);
    for (const wait of waits) expect(STREAMS).toContain(wait.stream);
    expect(events.filter((e) => e.event === 'retry')).toEqual([]);
    for (const refusal of refusals) {
      // Requests already on their way when the 429 left may still arrive; none is sent inside the wait.
      const during = proxy.log.filter((e) => e.arrived > refusal.answered! + 25 && e.arrived < refusal.answered! + 150);
      expect(during.map((e) => e.path)).toEqual([]);
    }
  });

  it('reads one stream after another, in the source order, with --concurrency 1', async () => {
    const { source, destination, out } = await setUp({ records: 300, latencyMs: 5 });
    const events: SyncEvent[] = [];
    await credport.syncs.run(source, destination, { concurrency: 1, onEvent: (e) => events.push(e) });
    await expectEachOnce(out, 300);
    const order = listPaths().map((p) => p.slice(1));
    expect(order).toEqual([...Array(3).fill('tags'), ...Array(3).fill('contacts'), ...Array(3).fill('conversations')]);
    expect(emulator.stats.maxInFlight).toBe(1);
    const lifecycle = events
      .filter((e) => e.event === 'stream_started' || e.event === 'stream_finished')
      .map((e) => `${e.event}:${(e as { stream: string }).stream}`);
    expect(lifecycle).toEqual(STREAMS.flatMap((s) => [`stream_started:${s}`, `stream_finished:${s}`]));
  });

  it('takes the concurrency from the source, then the connector, and refuses one out of range by name', async () => {
    const { source, destination } = await setUp({ records: 100 });
    await expect(credport.syncs.run(source, destination, { concurrency: 0 })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'concurrency',
    });
    await expect(credport.syncs.run(source, destination, { concurrency: 33 })).rejects.toMatchObject({ field: 'concurrency' });
    const events: SyncEvent[] = [];
    await credport.syncs.run(source, destination, { onEvent: (e) => events.push(e) });
    expect(events[0]).toMatchObject({ event: 'started', concurrency: 4 }); // Front's manifest
    const tile = (await credport.credentials.list())[0]!;
    const own = await credport.configs.addSource({
      name: 'Slow',
      connector: 'front',
      credentialId: tile.id,
      streams: ['tags'],
      concurrency: 2,
    });
    events.length = 0;
    await credport.syncs.run(own.id, destination, { onEvent: (e) => events.push(e), fullRefresh: true });
    expect(events[0]).toMatchObject({ concurrency: 2 });
    await expect(
      credport.configs.addSource({ name: 'Bad', connector: 'front', credentialId: tile.id, concurrency: 1.5 }),
    ).rejects.toMatchObject({ field: 'concurrency' });
  });

  it('asks for numbered pages ahead, writes them in order, and hangs up on those no longer wanted when the sync stops', async () => {
    const pager = await new PagedProvider({ records: 3000, streams: ['alpha', 'beta'], latencyMs: 150 }).start();
    try {
      const extras = join(home, 'pager');
      await writePagerConnector(extras, ['alpha', 'beta'], 60_000);
      credport = await openCredport({ home, storeUri, env: {}, extraConnectorDirs: [extras] });
      const tile = await credport.credentials.create({
        connector: 'pager',
        values: { name: 'Pager', token: pager.token },
        baseUrl: pager.url,
        verify: false,
      });
      const source = await credport.configs.addSource({
        name: 'Pager',
        connector: 'pager',
        credentialId: tile.id,
        streams: ['alpha', 'beta'],
      });
      const out = join(home, 'out');
      const destination = await credport.configs.addDestination({ name: 'Files', connector: 'jsonl', path: out });
      const stop = new AbortController();
      await expect(
        credport.syncs.run(source.id, destination.id, {
          concurrency: 6,
          signal: stop.signal,
          onEvent: (event) => {
            if (event.event === 'checkpoint' && event.pages === 3) stop.abort();
          },
        }),
      ).rejects.toBeInstanceOf(SyncCancelledError);
      // More than one page of a stream was in flight, and those not wanted were cancelled, not left running.
      expect(pager.stats.maxInFlight).toBeGreaterThan(2);
      expect(pager.stats.aborted).toBeGreaterThan(0);
      // The re-run finishes the run, in order, each record once.
      await credport.syncs.run(source.id, destination.id, { concurrency: 6 });
      for (const stream of ['alpha', 'beta']) {
        const ids = await idsIn(out, stream);
        expect(ids).toEqual(Array.from({ length: 3000 }, (_, i) => `${stream}_${i}`));
      }
    } finally {
      await pager.stop();
    }
  });
});
