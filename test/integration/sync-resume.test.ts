import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { openCredport, type Credport } from '../../src/open-credport.js';
import { ProviderUnavailableError } from '../../src/errors.js';
import { FakeTagPages } from '../helpers/fake-front.js';
import { fakeToken, removeHome, tempHome } from '../helpers/temp-home.js';
import { testStoreUri } from '../helpers/test-store.js';

let front: FakeTagPages;
let home: string;
let storeUri: string | undefined;
let credport: Credport;
let sourceId: string;
let destinationId: string;
let outDir: string;

beforeAll(async () => {
  front = new FakeTagPages();
  await front.start();
});
afterAll(() => front.stop());
beforeEach(async () => {
  front.count = 250;
  front.failOnce = undefined;
  front.busyOnce = undefined;
  front.seen.length = 0;
  home = await tempHome();
  storeUri = await testStoreUri();
  outDir = join(home, 'out');
  credport = await openCredport({ home, storeUri, env: {} });
  const tile = await credport.credentials.create({
    connector: 'front',
    values: { name: 'Support', apiKey: fakeToken() },
    baseUrl: front.url,
    verify: false,
  });
  sourceId = (await credport.configs.addSource({ name: 'Front', connector: 'front', credentialId: tile.id, streams: ['tags'] })).id;
  destinationId = (await credport.configs.addDestination({ name: 'Files', connector: 'jsonl', path: outDir })).id;
});
afterEach(async () => {
  await credport.close();
  await removeHome(home);
});

const synced = async () =>
  (await readFile(join(outDir, 'tags.jsonl'), 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { id: string }).id);
const pageTokens = (urls: URL[]) => urls.filter((u) => u.pathname === '/tags').map((u) => u.searchParams.get('page_token'));

describe('a sync stopped mid-stream resumes', () => {
  it('asks the provider again for at most the page that was in flight, never for the pages already checkpointed', async () => {
    front.failOnce = '2'; // pages 0 and 1 are written and checkpointed, page 2 fails
    await expect(credport.syncs.run(sourceId, destinationId)).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(pageTokens(front.seen)).toEqual([null, '1', '2']);

    front.seen.length = 0;
    const events: { event: string; resumed?: string[] }[] = [];
    const summary = await credport.syncs.run(sourceId, destinationId, { onEvent: (e) => events.push(e) });
    expect(pageTokens(front.seen)).toEqual(['2']);
    expect(events[0]).toMatchObject({ event: 'started', resumed: ['tags'] });
    expect(summary.streams.tags).toMatchObject({ records: 250, pages: 3 });
    // Every record once, in order.
    expect(await synced()).toEqual(Array.from({ length: 250 }, (_, i) => `tag_${i}`));
  });
});

describe('a new run of a stream that is read whole', () => {
  it('replaces the file: fewer records than the last run (400 tags, now 300) leave none of the old lines', async () => {
    front.count = 400;
    await credport.syncs.run(sourceId, destinationId);
    expect(await synced()).toHaveLength(400);
    front.count = 300;
    await credport.syncs.run(sourceId, destinationId);
    expect(await synced()).toEqual(Array.from({ length: 300 }, (_, i) => `tag_${i}`));
  });
});

describe('a page answered 503 once', () => {
  it('is asked again within the sync, said as a retry of its stream, and counted', async () => {
    front.busyOnce = '1';
    const events: { event: string; stream?: string; reason?: string }[] = [];
    const summary = await credport.syncs.run(sourceId, destinationId, { onEvent: (e) => events.push(e as never) });
    expect(summary).toMatchObject({ records: 250, retries: 1 });
    expect(events.filter((e) => e.event === 'retry')).toEqual([expect.objectContaining({ event: 'retry', stream: 'tags' })]);
    expect(await synced()).toHaveLength(250);
  });
});

describe('--full-refresh after a stopped sync', () => {
  it('reads the stream from its first page again and starts a new run', async () => {
    front.failOnce = '2';
    await expect(credport.syncs.run(sourceId, destinationId)).rejects.toBeInstanceOf(ProviderUnavailableError);
    front.seen.length = 0;
    const events: { event: string; resumedRun?: boolean }[] = [];
    await credport.syncs.run(sourceId, destinationId, { fullRefresh: true, onEvent: (e) => events.push(e) });
    expect(pageTokens(front.seen)).toEqual([null, '1', '2']);
    expect(events[0]).toMatchObject({ event: 'started', resumedRun: false });
    expect(await synced()).toEqual(Array.from({ length: 250 }, (_, i) => `tag_${i}`));
  });
});

describe("a sync's rate", () => {
  it('counts the requests of this sync alone, and names no limit where the provider announces none', async () => {
    for (let run = 0; run < 2; run++) {
      const summary = await credport.syncs.run(sourceId, destinationId);
      expect(Object.keys(summary.rate!).sort()).toEqual(['perMinute', 'requests']);
      expect(summary.rate!.requests).toBe(3);
      // Three requests over the sync's time, per minute (the sync's time is measured a little later).
      expect(summary.rate!.perMinute).toBeGreaterThanOrEqual(Math.floor((3 * 60_000) / Math.max(1, summary.ms) / 2));
      expect(summary.rate!.perMinute).toBeLessThan(3 * 60_000); // three requests take more than a millisecond
    }
  });
});
