import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { rawRequest } from '../helpers/raw-http.js';
import { type Served, startServe } from '../helpers/serve.js';
import { randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';
import { ensureRedis, freshRedisUri } from '../helpers/test-servers.js';
import { startReceiver } from '../helpers/webhook-receiver.js';
import { killLeftWorkers, startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';

/**
 * `serve --log-format json` and `worker --log-format json` through a whole run (sign-in, a credential
 * verified against the Front emulator and one refused, a connect session minted and exchanged, a
 * webhook endpoint with its whsec_ secret, a sync run by the worker on the queue): every line each
 * process writes is one JSON object, and not one of them holds any secret the run used.
 */
let home: string;
let emulator: FrontEmulator;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let served: Served;
let worker: WorkerProcess;
const apiToken = `op-${randomBytes(24).toString('base64url')}`;
const masterKey = randomMasterKey();
const goodSecret = `emu_${randomBytes(24).toString('base64url')}`;
const refusedSecret = `emu_${randomBytes(24).toString('base64url')}`;
/** Every secret the run hands out or uses, added to as the API answers with more. */
const secrets: Record<string, string> = { apiToken, masterKey, goodSecret, refusedSecret };

beforeAll(async () => {
  home = await tempHome();
  await ensureRedis();
  emulator = await new FrontEmulator({ tokens: [goodSecret], records: 120 }).start();
  receiver = await startReceiver();
  const env = { CREDPORT_API_TOKEN: apiToken, CREDPORT_MASTER_KEY: masterKey, CREDPORT_QUEUE: await freshRedisUri() };
  worker = await startWorkerProcess({ ...env, CREDPORT_HOME: home }, { args: ['--log-format', 'json'] });
  served = await startServe({
    home,
    env,
    args: ['--log-format', 'json', '--allow-origin', `front=${emulator.url}`, `webhooks=${receiver.origin}`],
  });
}, 30_000);

afterAll(async () => {
  await served?.stop();
  await worker?.stop();
  killLeftWorkers();
  await receiver?.close();
  await emulator?.stop();
  await removeHome(home);
});

async function api(path: string, init: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${served.url}/api/v1${path}`, {
    method: init.method ?? (init.body ? 'POST' : 'GET'),
    headers: {
      ...(init.token === '' ? {} : { authorization: `Bearer ${init.token ?? apiToken}` }),
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : undefined) as { id: string; token: string; bearer: string; secret: string; status: string },
  };
}

/** Every line a process wrote, each parsed (a line that is not JSON fails the test by its text). */
function parsedLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${line.slice(0, 200)}`);
      }
    });
}

describe('--log-format json through a whole run', () => {
  let serveLines: Record<string, unknown>[];
  let allText: string;
  const hostile = `forged-${'x'.repeat(10 * 1024)}`;

  beforeAll(async () => {
    // Signing in: the operator's API token, and a workspace token it mints.
    expect((await api('/credentials')).status).toBe(200);
    const minted = await api('/tokens', { body: { name: 'ci', role: 'admin' } });
    expect(minted.status).toBe(201);
    secrets.workspaceToken = minted.body.token;
    expect((await api('/credentials?limit=5', { token: minted.body.token })).status).toBe(200);

    const made = await api('/credentials', {
      body: { connector: 'front', values: { name: 'Front', apiKey: goodSecret }, baseUrl: emulator.url },
    });
    expect(made.status).toBe(201);
    const refused = await api('/credentials', {
      body: { connector: 'front', values: { name: 'Front wrong', apiKey: refusedSecret }, baseUrl: emulator.url },
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);

    const session = await api('/connect/sessions', { body: { endUser: { id: 'user-42' }, allowedOrigins: ['http://127.0.0.2:8080'] } });
    expect(session.status).toBe(201);
    secrets.connectToken = session.body.token;
    const exchanged = await api('/connect/exchange', { token: '', body: { token: session.body.token } });
    expect(exchanged.status).toBe(200);
    secrets.connectBearer = exchanged.body.bearer;
    expect((await api('/credentials', { token: exchanged.body.bearer })).status).toBeLessThan(500);

    const hook = await api('/webhooks', { body: { url: `${receiver.origin}/hooks`, events: ['credential.created', 'sync.succeeded'] } });
    expect(hook.status).toBe(201);
    secrets.whsec = hook.body.secret;
    secrets.whsecBody = String(hook.body.secret).slice('whsec_'.length);

    const source = await api('/sources', {
      body: { name: 'Front tags', connector: 'front', credentialId: made.body.id, streams: ['tags'] },
    });
    const destination = await api('/destinations', { body: { name: 'Files', connector: 'jsonl', path: join(home, 'out') } });
    const job = await api('/syncs', { body: { source: source.body.id, destination: destination.body.id } });
    expect(job.status).toBe(202);
    for (let status = ''; status !== 'finished'; await sleep(50)) {
      status = (await api(`/syncs/${job.body.id}`)).body.status;
      expect(['queued', 'running', 'finished']).toContain(status);
    }

    // Request ids: a caller's own when fit to repeat; a newline or 10 KB is not taken (nor logged).
    expect((await api('/connectors', { headers: { 'x-request-id': 'trace-abc-123' } })).headers.get('x-request-id')).toBe('trace-abc-123');
    const long = await api('/connectors', { headers: { 'x-request-id': hostile } });
    expect(long.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const forged = await rawRequest(served.url, 'GET', '/api/v1/connectors', {
      headers: { authorization: `Bearer ${apiToken}`, 'x-request-id': 'abc\t{"level":60,"msg":"forged"}' },
    });
    expect(forged.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    await served.stop();
    await worker.stop();
    serveLines = parsedLines(served.output());
    allText = served.output() + worker.lines.map((l) => JSON.stringify(l)).join('\n') + worker.stderr();
  }, 60_000);

  it('serve and worker write nothing but JSON lines, on stdout and on stderr', () => {
    expect(serveLines.length).toBeGreaterThan(10);
    expect(worker.stderr()).toBe('');
    for (const line of [...serveLines, ...worker.lines]) {
      expect(typeof line.level).toBe('number');
      expect(typeof line.time).toBe('string');
      expect(typeof line.msg).toBe('string');
    }
  });

  it('no line holds a secret of the run, in any spelling', () => {
    expect(Object.keys(secrets)).toEqual(expect.arrayContaining(['workspaceToken', 'connectToken', 'connectBearer', 'whsec', 'whsecBody']));
    for (const [name, secret] of Object.entries(secrets)) {
      for (const spelling of new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]))
        expect({ name, found: allText.includes(spelling) }).toEqual({ name, found: false });
    }
    // Nor a login link's code (it signs a browser in as the operator).
    expect(allText).not.toMatch(/#login=[\w-]{8}/);
  });

  it('each request is one line with its id, route pattern, status, time, workspace and actor', () => {
    const requests = serveLines.filter((l) => l.msg === 'request completed' || l.msg === 'request failed');
    expect(requests.length).toBeGreaterThan(10);
    for (const line of requests) {
      expect(line).toEqual(
        expect.objectContaining({ reqId: expect.any(String), statusCode: expect.any(Number), responseTime: expect.any(Number) }),
      );
      expect(String(line.route ?? '')).not.toContain('?');
    }
    const signedIn = requests.filter(
      (l) => l.statusCode !== 401 && String(l.route).startsWith('/api/v1/') && l.route !== '/api/v1/connect/exchange',
    );
    for (const line of signedIn) expect(line).toEqual(expect.objectContaining({ workspace: 'default', actor: expect.any(String) }));
    expect(requests).toContainEqual(
      expect.objectContaining({ route: '/api/v1/credentials', method: 'POST', statusCode: 201, actor: 'api:token' }),
    );
    expect(requests).toContainEqual(
      expect.objectContaining({ route: '/api/v1/credentials', actor: expect.stringMatching(/^api:token:tok_/) }),
    );
    expect(requests).toContainEqual(expect.objectContaining({ route: '/api/v1/credentials', actor: 'connect:user-42' }));
    expect(requests).toContainEqual(expect.objectContaining({ route: '/api/v1/syncs/:id', method: 'GET' }));
    expect(requests).toContainEqual(expect.objectContaining({ reqId: 'trace-abc-123', route: '/api/v1/connectors' }));
  });

  it('a hostile x-request-id is neither the request id nor written raw', () => {
    expect(allText).not.toContain('forged');
    expect(allText).not.toContain('x'.repeat(100));
  });

  it("the worker logs the job's start and finish with the job, the sync ids, the workspace and durations", () => {
    const started = worker.lines.find((l) => l.event === 'started');
    const finished = worker.lines.find((l) => l.event === 'finished');
    expect(worker.lines[0]).toEqual(expect.objectContaining({ event: 'ready', level: 30, msg: expect.stringContaining('ready') }));
    expect(started).toEqual(
      expect.objectContaining({
        job: expect.any(String),
        sourceId: expect.any(String),
        destinationId: expect.any(String),
        workspace: 'default',
      }),
    );
    expect(finished).toEqual(
      expect.objectContaining({
        job: started!.job,
        workspace: 'default',
        records: 120,
        durationMs: expect.any(Number),
        syncMs: expect.any(Number),
      }),
    );
  });
});
