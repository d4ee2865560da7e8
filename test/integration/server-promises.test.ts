// The behaviours the README promises of the HTTP API, over real loopback HTTP in front of the Front
// emulator: a refusal names the field it is about (the secret's, a path or query parameter's), an
// unknown connector is not found, the workspace's syncs are listed a page at a time, a busy
// destination is refused at once, and `since` reads as the CLI reads it.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { withAccess } from '../../src/access/access.js';
import { SyncCancelledError } from '../../src/errors.js';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import type { Credport } from '../../src/open-credport.js';
import { queuedRun, type SyncQueue, type SyncRequest } from '../../src/queue/sync-queue.js';
import type { SyncJobs } from '../../src/server/sync-jobs.js';
import type { SyncSummary } from '../../src/generated/sync-summary.js';
import { Collection } from '../../src/store/collection.js';
import { openKeyv } from '../../src/store/open-keyv.js';
import { acquireLease, LEASE_PREFIX, type LeaseRecord } from '../../src/sync/destination-lease.js';
import { type ApiAnswer, type ApiUnderTest, callApi, startApi } from '../helpers/api-server.js';
import type { JsonBody } from '../helpers/json-body.js';
import { fakeToken } from '../helpers/temp-home.js';

let front: FrontEmulator;
let api: ApiUnderTest;
let credport: Credport;
let jobs: SyncJobs;
let url: string;

beforeAll(async () => (front = await new FrontEmulator({ records: 250 }).start()));
afterAll(() => front.stop());
beforeEach(async () => {
  api = await startApi();
  ({ credport, jobs, url } = api);
});
afterEach(() => api.close());

type Answer = ApiAnswer;
const call = (method: string, path: string, options?: { body?: unknown; token?: string }) => callApi(url, method, path, options);

const frontToken = (emulator = front) => [...emulator.tokens][0]!;
const addFront = (apiKey = frontToken(), emulator = front) =>
  call('POST', '/api/v1/credentials', { body: { connector: 'front', baseUrl: emulator.url, values: { name: 'Support', apiKey } } });

/** The statuses the OpenAPI document declares for an operation. */
async function declared(path: string, method: string): Promise<string[]> {
  const doc = (await call('GET', '/api/v1/openapi.json')).body;
  return Object.keys(doc.paths[path][method].responses);
}

function expectProblem(answer: Answer, status: number, problem: Record<string, unknown>): void {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toContain('application/problem+json');
  expect(answer.body).toMatchObject({ status, ...problem });
}

describe("a provider's refusal (422) names the secret's field", () => {
  it('/values/apiKey when a credential is added, and nothing is saved', async () => {
    const refused = await addFront(fakeToken());
    expectProblem(refused, 422, { code: 'provider_rejected', field: '/values/apiKey' });
    expect((await call('GET', '/api/v1/credentials')).body).toEqual([]);
  });

  it('/secrets/apiKey when a secret is rotated, and the old one is kept', async () => {
    const id = (await addFront()).body.id as string;
    const refused = await call('POST', `/api/v1/credentials/${id}/rotate`, { body: { secrets: { apiKey: fakeToken() } } });
    expectProblem(refused, 422, { code: 'provider_rejected', field: '/secrets/apiKey' });
    expect((await call('POST', `/api/v1/credentials/${id}/test`)).body).toMatchObject({ status: 'verified' });
  });
});

describe('ids are refused by their own shape, pointing into the path or the body', () => {
  it.each([
    ['GET', '/api/v1/credentials/{id}', 'credential', 'cred_0123456789abcdef', 'get'],
    ['DELETE', '/api/v1/sources/{id}', 'source', 'src_0123456789abcdef0123', 'delete'],
    ['GET', '/api/v1/destinations/{id}', 'destination', 'dst_0123456789abcdef0123', 'get'],
    ['GET', '/api/v1/syncs/{id}', 'sync', 'sync_0123456789abcdef0123', 'get'],
    ['DELETE', '/api/v1/tokens/{id}', 'token', 'tok_0123456789abcdef', 'delete'],
  ])('%s %s: a malformed id is 400 /path/id (declared), a well-formed unknown one 404', async (method, path, kind, example, verb) => {
    const malformed = await call(method, path.replace('{id}', 'not-an-id'));
    expectProblem(malformed, 400, { field: '/path/id', detail: `id is not a ${kind} id (they look like ${example})` });
    expect(await declared(path, verb)).toContain('400');
    expect(
      (
        await call(
          method,
          path.replace(
            '{id}',
            example.replace(/[0-9a-f]+$/, (d) => '0'.repeat(d.length)),
          ),
        )
      ).status,
    ).toBe(404);
  });

  it('POST /sources with a malformed credentialId names /credentialId and saves nothing', async () => {
    const refused = await call('POST', '/api/v1/sources', { body: { name: 'S', connector: 'front', credentialId: 'cred-nope' } });
    expectProblem(refused, 400, {
      field: '/credentialId',
      detail: 'credentialId is not a credential id (they look like cred_0123456789abcdef)',
    });
    expect((await call('GET', '/api/v1/sources')).body).toEqual([]);
  });

  it('a refused query parameter is /query/<name>', async () => {
    expectProblem(await call('GET', '/api/v1/credentials?color=red'), 400, { field: '/query/color' });
    expectProblem(await call('GET', '/api/v1/syncs?limit=0'), 400, { field: '/query/limit', detail: 'limit must be at least 1' });
  });

  it("a running sync's retry (409 not_failed) points at /path/id", async () => {
    const { source, destination } = await setUpSync();
    const started = jobs.start({ source, destination }, ['tags']);
    expectProblem(await call('POST', `/api/v1/syncs/${started.id}/retry`), 409, { code: 'not_failed', field: '/path/id' });
  });
});

describe('the form of a connector', () => {
  it('is 404 for an unknown connector, 400 /path/id for a malformed id, both declared', async () => {
    expectProblem(await call('GET', '/api/v1/connectors/nosuch/form'), 404, { code: 'not_found' });
    expectProblem(await call('GET', '/api/v1/connectors/Front!/form'), 400, { field: '/path/id' });
    expect(await declared('/api/v1/connectors/{id}/form', 'get')).toEqual(expect.arrayContaining(['200', '400', '404']));
    expect((await call('GET', '/api/v1/connectors/front/form')).status).toBe(200);
  });
});

describe('GET /audit?since= reads as the CLI reads --since', () => {
  it('takes 45s, 24h, 7d, a date and a date-time; refuses anything else at /query/since', async () => {
    expect((await addFront()).status).toBe(201);
    for (const since of ['45s', '24h', '7d', '2020-01-01', '2020-01-01T00:00:00Z'])
      expect((await call('GET', `/api/v1/audit?since=${since}`)).body).toHaveLength(1);
    expect((await call('GET', '/api/v1/audit?since=2099-01-01')).body).toEqual([]);
    for (const since of ['yesterday', '2026-02-30', '0s'])
      expectProblem(await call('GET', `/api/v1/audit?since=${since}`), 400, {
        field: '/query/since',
        detail: 'since must be a time ago (45s, 30m, 24h, 7d), a date (2026-11-01) or a date-time (2026-11-01T09:00:00Z)',
      });
  });
});

async function setUpSync(emulator = front): Promise<{ source: string; destination: string }> {
  const credential = (await addFront(frontToken(emulator), emulator)).body.id as string;
  const source = await call('POST', '/api/v1/sources', {
    body: { name: 'Src', connector: 'front', credentialId: credential, streams: ['tags'] },
  });
  const destination = await call('POST', '/api/v1/destinations', { body: { name: 'Files', connector: 'jsonl' } });
  expect([source.status, destination.status]).toEqual([201, 201]);
  return { source: source.body.id, destination: destination.body.id };
}

/** Waits for a sync's end through the API. */
async function ended(id: string): Promise<JsonBody> {
  for (;;) {
    const job = (await call('GET', `/api/v1/syncs/${id}`)).body;
    if (job.status !== 'running') return job;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('GET /syncs', () => {
  it("lists the workspace's syncs newest first, a page at a time, filtered by state", async () => {
    const { source, destination } = await setUpSync();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const started = await call('POST', '/api/v1/syncs', { body: { source, destination } });
      expect(started.status).toBe(202);
      ids.push(started.body.id);
      expect(await ended(started.body.id)).toMatchObject({ status: 'finished' });
    }
    // One that fails at once: its source is gone.
    const failed = jobs.start({ source: 'src_00000000000000000000', destination }, ['tags']);
    await ended(failed.id);
    ids.push(failed.id);

    const first = await call('GET', '/api/v1/syncs?limit=3');
    expect(first.status).toBe(200);
    expect(first.body.map((s: { id: string }) => s.id)).toEqual([ids[3], ids[2], ids[1]]);
    // The next page is named by a Link header, as every paged listing's is; the last page has none.
    const next = /^<([^>]+)>; rel="next"$/.exec(first.headers.get('link') ?? '')?.[1];
    expect(next).toMatch(/^\/api\/v1\/syncs\?limit=3&cursor=/);
    const second = await call('GET', next!);
    expect(second.body).toEqual([expect.objectContaining({ id: ids[0], status: 'finished' })]);
    expect(second.headers.get('link')).toBeNull();
    expectProblem(await call('GET', '/api/v1/syncs?cursor=abc'), 400, { field: '/query/cursor' });

    const finished = await call('GET', '/api/v1/syncs?state=finished');
    expect(finished.body.map((s: { id: string }) => s.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect((await call('GET', '/api/v1/syncs?state=failed')).body.map((s: { id: string }) => s.id)).toEqual([ids[3]]);
    expectProblem(await call('GET', '/api/v1/syncs?state=lost'), 400, { field: '/query/state' });
    expectProblem(await call('GET', '/api/v1/syncs?cursor=abc'), 400, { field: '/query/cursor' });
    expect(await declared('/api/v1/syncs', 'get')).toEqual(expect.arrayContaining(['200', '400', '401']));
  });

  it("never shows a workspace another's syncs", async () => {
    const { source, destination } = await setUpSync();
    const mine = await call('POST', '/api/v1/syncs', { body: { source, destination } });
    await ended(mine.body.id);
    const token = async (workspace: string) =>
      (await withAccess({ workspace, role: 'admin' }, () => credport.tokens.create({ name: `${workspace} admin`, role: 'admin' }))).token;
    const acme = await token('acme');
    const globex = await token('globex');
    expect((await call('GET', '/api/v1/syncs', { token: acme })).body).toEqual([]);
    // acme's own sync (it fails at once: acme has no such source) is acme's alone.
    const theirs = withAccess({ workspace: 'acme', role: 'admin' }, () => jobs.start({ source, destination }, ['tags']));
    await withAccess({ workspace: 'acme', role: 'admin' }, async () => {
      while (jobs.get(theirs.id).status === 'running') await new Promise((resolve) => setTimeout(resolve, 20));
    });
    expect((await call('GET', '/api/v1/syncs', { token: acme })).body.map((s: { id: string }) => s.id)).toEqual([theirs.id]);
    expect((await call('GET', '/api/v1/syncs', { token: globex })).body).toEqual([]);
    expect((await call('GET', '/api/v1/syncs')).body.map((s: { id: string }) => s.id)).toEqual([mine.body.id]);
  });
});

/**
 * The queue as the server sees it (SyncQueue) without Redis: what is enqueued, and each job's
 * follower, ended by the test as a worker would end it.
 */
function queueStandIn() {
  const jobs = new Map<string, { request: SyncRequest; end: (summary: SyncSummary) => void; stop: () => void }>();
  const queue: SyncQueue = {
    enqueue: async (request) => {
      const id = `sync_${String(jobs.size).padStart(16, '0')}`;
      jobs.set(id, { request, end: () => undefined, stop: () => undefined });
      return id;
    },
    follow: (jobId: string) =>
      new Promise<SyncSummary>((resolve, reject) => {
        Object.assign(jobs.get(jobId)!, { end: resolve, stop: () => reject(new SyncCancelledError(undefined)) });
      }),
    // A running job's worker stops it after a checkpoint: its follower hears it failed as cancelled.
    cancel: async (jobId) => {
      jobs.get(jobId)?.stop();
      return false;
    },
    retryFailed: async () => ({ requeued: [], skipped: [] }) as never,
    close: async () => undefined,
  };
  return { queue, jobs };
}

describe('GET /syncs with CREDPORT_QUEUE (the syncs run by workers)', () => {
  it("lists the queued syncs this server started, running then finished, in the caller's workspace only", async () => {
    const { queue, jobs: queued } = queueStandIn();
    const queuedApi = await startApi({ server: { runSync: queuedRun(queue) } });
    const was = { url, credport };
    ({ url, credport } = queuedApi);
    try {
      const { source, destination } = await setUpSync();
      const started = await call('POST', '/api/v1/syncs', { body: { source, destination } });
      expect(started.status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 50)); // enqueued, followed
      expect([...queued.values()].map((j) => j.request)).toEqual([
        expect.objectContaining({ sourceId: source, destinationId: destination }),
      ]);
      expect((await call('GET', '/api/v1/syncs?state=running')).body.map((s: { id: string }) => s.id)).toEqual([started.body.id]);
      // A second one to the same destination waits on the queue: refused at once.
      expectProblem(await call('POST', '/api/v1/syncs', { body: { source, destination } }), 409, { code: 'destination_busy' });
      const acme = (
        await withAccess({ workspace: 'acme', role: 'admin' }, () => credport.tokens.create({ name: 'acme admin', role: 'admin' }))
      ).token;
      expect((await call('GET', '/api/v1/syncs', { token: acme })).body).toEqual([]);
      // The worker finishes it.
      const summary: SyncSummary = {
        source,
        destination,
        streams: { tags: { records: 1, pages: 1, sent: 1, rejected: 0, skipped: 0 } },
        records: 1,
        pages: 1,
        sent: 1,
        rejected: 0,
        skipped: 0,
        rateLimited: 0,
        retries: 0,
        ms: 1,
      };
      [...queued.values()][0]!.end(summary);
      expect(await ended(started.body.id)).toMatchObject({ status: 'finished' });
      expect((await call('GET', '/api/v1/syncs?state=finished')).body.map((s: { id: string }) => s.id)).toEqual([started.body.id]);
    } finally {
      ({ url, credport } = was);
      await queuedApi.close();
    }
  });
});

describe('POST /syncs to a busy destination', () => {
  it('is 409 destination_busy at once while another process holds its lease, and nothing starts', async () => {
    const { source, destination } = await setUpSync();
    // Another process's sync: a lease taken through the store itself, as a worker elsewhere takes it.
    const opened = await openKeyv(`sqlite://${join(api.home, 'credport.sqlite')}`);
    const lease = await acquireLease(new Collection<LeaseRecord>(opened, LEASE_PREFIX, (v) => v as LeaseRecord), destination);
    try {
      const busy = await call('POST', '/api/v1/syncs', { body: { source, destination } });
      expectProblem(busy, 409, { code: 'destination_busy' });
      expect(busy.body.detail).toContain(`destination ${destination} is being written by another sync (process ${process.pid}`);
      expect((await call('GET', '/api/v1/syncs')).body).toEqual([]);
      expect(await declared('/api/v1/syncs', 'post')).toContain('409');
    } finally {
      await lease.release();
      await opened.close();
    }
    const free = await call('POST', '/api/v1/syncs', { body: { source, destination } });
    expect(free.status).toBe(202);
    expect(await ended(free.body.id)).toMatchObject({ status: 'finished' });
  });

  it("is 409 at once while one of this server's syncs writes it (before it holds the lease), naming that sync", async () => {
    // A provider slow enough that the first sync is still reading when the second is asked for.
    const slow = await new FrontEmulator({ records: 250, latencyMs: 300 }).start();
    try {
      const { source, destination } = await setUpSync(slow);
      const running = await call('POST', '/api/v1/syncs', { body: { source, destination } });
      const busy = await call('POST', '/api/v1/syncs', { body: { source, destination } });
      expectProblem(busy, 409, { code: 'destination_busy', field: '/destination' });
      expect(busy.body.detail).toContain(running.body.id);
      expect((await call('GET', '/api/v1/syncs')).body).toHaveLength(1);
      expect(await ended(running.body.id)).toMatchObject({ status: 'finished' });
      expect((await call('POST', '/api/v1/syncs', { body: { source, destination } })).status).toBe(202);
    } finally {
      await jobs.stopAll();
      await slow.stop();
    }
  });
});
