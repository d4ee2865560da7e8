import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { withAccess } from '../../src/access/access.js';
import { FrontEmulator, type FrontEmulatorOptions } from '../../src/emulator/front-emulator.js';
import type { Credport } from '../../src/open-credport.js';
import type { SyncJobs } from '../../src/server/sync-jobs.js';
import { API_TOKEN, type ApiUnderTest, callApi, startApi } from '../helpers/api-server.js';

/** POST /api/v1/syncs/{id}/retry over real loopback HTTP, the syncs run in-process against the Front emulator. */
let front: FrontEmulator;
let api: ApiUnderTest;
let credport: Credport;
let jobs: SyncJobs;
let url: string;

beforeEach(async () => {
  // contacts refused (403, as for a token without its scope) until a test lifts it; each page answered after 100 ms.
  front = await new FrontEmulator({ records: 250, forbidden: ['contacts'], latencyMs: 100 }).start();
  api = await startApi();
  ({ credport, jobs, url } = api);
});
afterEach(async () => {
  await api.close();
  await front.stop();
});

const call = (method: string, path: string, options?: { body?: unknown; token?: string }) => callApi(url, method, path, options);

async function setUp(): Promise<{ source: string; destination: string }> {
  const credential = await call('POST', '/api/v1/credentials', {
    body: { connector: 'front', baseUrl: front.url, values: { name: 'Support', apiKey: [...front.tokens][0]! } },
  });
  const source = await call('POST', '/api/v1/sources', {
    body: { name: 'Src', connector: 'front', credentialId: credential.body.id, streams: ['tags', 'contacts'] },
  });
  const destination = await call('POST', '/api/v1/destinations', { body: { name: 'Files', connector: 'jsonl' } });
  expect([credential.status, source.status, destination.status]).toEqual([201, 201, 201]);
  return { source: source.body.id, destination: destination.body.id };
}

/** Reads a job's Server-Sent Events to its end. */
async function events(id: string): Promise<{ event: string; [k: string]: unknown }[]> {
  const text = await (await fetch(`${url}/api/v1/syncs/${id}/events`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).text();
  return text
    .split('\n\n')
    .map((block) => block.split('\n').find((line) => line.startsWith('data: ')))
    .filter((line): line is string => line !== undefined)
    .map((line) => JSON.parse(line.slice(6)));
}

describe('POST /api/v1/syncs/{id}/retry', () => {
  it('runs a failed sync again as a new sync (202, Location, retryOf) that resumes at its checkpoint, even one asked as a full refresh', async () => {
    const { source, destination } = await setUp();
    // One stream after another: tags lands, then contacts is refused.
    const first = await call('POST', '/api/v1/syncs', { body: { source, destination, fullRefresh: true, concurrency: 1 } });
    expect(first.status).toBe(202);
    expect((await events(first.body.id)).at(-1)).toMatchObject({ event: 'failed', code: 'provider_rejected' });
    expect((await call('GET', `/api/v1/syncs/${first.body.id}`)).body).toMatchObject({
      status: 'failed',
      progress: { tags: { status: 'done', records: 250 } },
    });

    (front as unknown as { options: FrontEmulatorOptions }).options.forbidden = undefined; // the token gets its scope
    const retried = await call('POST', `/api/v1/syncs/${first.body.id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.headers.get('location')).toBe(`/api/v1/syncs/${retried.body.id}`);
    expect(retried.body).toMatchObject({ status: 'running', retryOf: first.body.id, source, destination, streams: ['tags', 'contacts'] });
    expect(retried.body.id).not.toBe(first.body.id);
    // Still running: not to be run twice at once.
    const busy = await call('POST', `/api/v1/syncs/${retried.body.id}/retry`);
    expect(busy.status).toBe(409);
    expect(busy.headers.get('content-type')).toContain('application/problem+json');
    expect(busy.body).toMatchObject({
      code: 'not_failed',
      detail: `sync ${retried.body.id} is running: only a failed or cancelled sync can be run again`,
    });

    const all = await events(retried.body.id);
    // tags is not read again (no full refresh); contacts is read once.
    expect(all[0]).toMatchObject({ event: 'started', resumedRun: true, skipped: ['tags'] });
    expect(all.filter((e) => e.event === 'page').map((e) => e.stream)).toEqual(['contacts', 'contacts', 'contacts']);
    expect(all.at(-1)).toMatchObject({ event: 'finished' });
    const finished = await call('POST', `/api/v1/syncs/${retried.body.id}/retry`);
    expect([finished.status, finished.body.code, finished.body.detail]).toEqual([
      409,
      'not_failed',
      `sync ${retried.body.id} is finished: only a failed or cancelled sync can be run again`,
    ]);
  });

  it('runs a cancelled sync again on request', async () => {
    const { source, destination } = await setUp();
    (front as unknown as { options: FrontEmulatorOptions }).options.forbidden = undefined;
    const started = jobs.start({ source, destination }, ['tags', 'contacts']);
    jobs.subscribe(started.id, 0, ({ event }) => {
      if (event.event === 'checkpoint') jobs.cancel(started.id);
    });
    expect((await events(started.id)).at(-1)).toMatchObject({ event: 'failed', code: 'sync_cancelled' });
    const again = await call('POST', `/api/v1/syncs/${started.id}/retry`);
    expect(again.status).toBe(202);
    expect(again.body.retryOf).toBe(started.id);
    const all = await events(again.body.id);
    expect(all[0]).toMatchObject({ event: 'started', resumedRun: true });
    expect(all.at(-1)).toMatchObject({ event: 'finished' });
  });

  it("is another workspace's 404, a viewer's 403, and documented", async () => {
    const { source, destination } = await setUp();
    const failed = await call('POST', '/api/v1/syncs', { body: { source, destination, concurrency: 1 } });
    expect((await events(failed.body.id)).at(-1)).toMatchObject({ event: 'failed' });
    const acme = await withAccess({ workspace: 'acme', role: 'admin' }, () =>
      credport.tokens.create({ name: 'acme admin', role: 'admin' }),
    );
    const viewer = await withAccess({ workspace: 'default', role: 'admin' }, () =>
      credport.tokens.create({ name: 'dashboard', role: 'viewer' }),
    );
    expect((await call('POST', `/api/v1/syncs/${failed.body.id}/retry`, { token: acme.token! })).status).toBe(404);
    const refused = await call('POST', `/api/v1/syncs/${failed.body.id}/retry`, { token: viewer.token! });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toBe('running a sync again needs the editor role; this caller is a viewer of workspace default');
    expect((await call('POST', '/api/v1/syncs/sync_00000000000000000000/retry')).status).toBe(404);

    const doc = (await call('GET', '/api/v1/openapi.json')).body;
    const route = doc.paths['/api/v1/syncs/{id}/retry'].post;
    expect(Object.keys(route.responses)).toEqual(expect.arrayContaining(['202', '403', '404', '409']));
    expect(JSON.stringify(doc)).toContain('"retryOf"');
  });
});
