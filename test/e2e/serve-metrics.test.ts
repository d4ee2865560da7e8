import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { promtoolCheck, samples, total } from '../helpers/prometheus-text.js';
import { type Served, startServe } from '../helpers/serve.js';
import { fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';
import { startReceiver } from '../helpers/webhook-receiver.js';

// issue 27: a real `credport serve --metrics-port` does a small full run (a credential added, one
// refused, a sync through the emulator's 429s, a webhook delivered, a connect session), and its
// scrape passes `promtool check metrics`, counts exactly what the run did, and holds no id, name,
// URL or secret of it in a label.

const API_TOKEN = 'metrics-test-api-token-0123456789abcdef';
const RECORDS = 450;
let home: string;
let emulator: FrontEmulator;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let served: Served;
let metricsUrl: string;
const goodKey = fakeToken('metrics-good');
const badKey = fakeToken('metrics-bad');

const api = async (path: string, init: { method?: string; body?: unknown; token?: string } = {}) => {
  const answer = await fetch(`${served.url}/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? API_TOKEN}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown> & { id: string } };
};

beforeAll(async () => {
  home = await tempHome();
  // Every 3rd request a burst 429 (retry-after 150 ms): the client waits it out and goes on.
  emulator = await new FrontEmulator({ tokens: [goodKey], records: RECORDS, burstEvery: 3 }).start();
  receiver = await startReceiver();
  served = await startServe({
    home,
    args: ['--metrics-port', '0', '--allow-origin', `front=${emulator.url}`, `webhooks=${receiver.origin}`],
    env: { CREDPORT_API_TOKEN: API_TOKEN, CREDPORT_MASTER_KEY: randomMasterKey(), CREDPORT_HTTP_RETRIES: '3' },
  });
  const listening = served
    .output()
    .split('\n')
    .find((l) => l.includes('"listening"'))!;
  metricsUrl = (JSON.parse(listening) as { metricsUrl: string }).metricsUrl;
}, 30_000);

afterAll(async () => {
  await served?.stop();
  await receiver?.close();
  await emulator?.stop();
  await removeHome(home);
});

describe('serve --metrics-port after a full run', () => {
  it('passes promtool, counts what the run did, and names no id, name, URL or secret', async () => {
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const hook = await api('/webhooks', { method: 'POST', body: { url: `${receiver.origin}/in`, events: ['sync.succeeded'] } });
    expect(hook.status).toBe(201);
    const added = await api('/credentials', {
      method: 'POST',
      body: { connector: 'front', baseUrl: emulator.url, values: { name: 'Metrics Support Team', apiKey: goodKey } },
    });
    expect(added.status).toBe(201);
    const refused = await api('/credentials', {
      method: 'POST',
      body: { connector: 'front', baseUrl: emulator.url, values: { name: 'Metrics Refused Key', apiKey: badKey } },
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    const source = await api('/sources', {
      method: 'POST',
      body: { name: 'Metrics Source Name', connector: 'front', credentialId: added.body.id, streams: ['contacts'] },
    });
    const destination = await api('/destinations', { method: 'POST', body: { name: 'Metrics Files Name', connector: 'jsonl' } });
    const started = await api('/syncs', { method: 'POST', body: { source: source.body.id, destination: destination.body.id } });
    expect(started.status).toBe(202);
    let job = started.body;
    while (job.status === 'running') {
      await sleep(50);
      job = (await api(`/syncs/${started.body.id}`)).body;
    }
    expect(job.status).toBe('finished');
    const session = await api('/connect/sessions', {
      method: 'POST',
      body: { endUser: { id: 'metrics-end-user-77' }, allowedOrigins: ['https://host.example.com'], connectors: ['front'], mode: 'create' },
    });
    expect(session.status).toBe(201);
    // The delivery loop looks every second: wait for the one event to arrive.
    for (let i = 0; i < 200 && receiver.received.length < 1; i++) await sleep(50);
    expect(receiver.received).toHaveLength(1);
    await sleep(100); // its record lands after the POST answered

    const scraped = await fetch(`${metricsUrl}/metrics`);
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await scraped.text();
    expect(promtoolCheck(text)).toEqual({ code: 0, said: '' });

    expect(total(text, 'credport_verifications_total', { connector: 'front', outcome: 'ok' })).toBe(1);
    expect(total(text, 'credport_verifications_total', { connector: 'front', outcome: 'refused' })).toBe(1);
    expect(total(text, 'credport_verifications_total')).toBe(2);
    expect(emulator.stats.rateLimited).toBeGreaterThan(0);
    expect(total(text, 'credport_rate_limit_waits_total', { connector: 'front', cause: '429' })).toBe(emulator.stats.rateLimited);
    // Every attempt the emulator answered, by class.
    expect(total(text, 'credport_provider_requests_total', { connector: 'front' })).toBe(emulator.requests);
    expect(total(text, 'credport_provider_requests_total', { status_class: '4xx' })).toBe(
      emulator.stats.rateLimited + emulator.stats.unauthorized,
    );
    expect(total(text, 'credport_provider_request_duration_seconds_count', { connector: 'front' })).toBe(emulator.requests);
    expect(total(text, 'credport_sync_records_total', { connector: 'front', stream: 'contacts', direction: 'read' })).toBe(RECORDS);
    expect(total(text, 'credport_sync_records_total', { connector: 'jsonl', stream: 'contacts', direction: 'write' })).toBe(RECORDS);
    expect(total(text, 'credport_sync_runs_total', { outcome: 'succeeded' })).toBe(1);
    expect(total(text, 'credport_sync_runs_total')).toBe(1);
    expect(total(text, 'credport_syncs_running')).toBe(0);
    expect(total(text, 'credport_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect(total(text, 'credport_webhook_deliveries_total')).toBe(1);
    expect(total(text, 'credport_webhook_backlog')).toBe(0);
    expect(total(text, 'credport_connect_sessions_total', { outcome: 'created' })).toBe(1);
    expect(samples(text).some((s) => s.name === 'process_resident_memory_bytes')).toBe(true);

    // No label value is an id, a name, a URL or a secret of the run.
    const run = [
      added.body.id,
      source.body.id,
      destination.body.id,
      started.body.id,
      hook.body.id,
      session.body.id,
      String(session.body.token),
      String(hook.body.secret),
      'Metrics Support Team',
      'Metrics Refused Key',
      'Metrics Source Name',
      'Metrics Files Name',
      'metrics-end-user-77',
      'host.example.com',
      emulator.url,
      receiver.origin,
      '127.0.0.1',
      goodKey,
      badKey,
      API_TOKEN,
    ];
    for (const value of run) expect([value, text.includes(value)]).toEqual([value, false]);
    const labelValues = new Set(samples(text).flatMap((s) => Object.values(s.labels)));
    for (const value of labelValues) expect([value, /[/:@]/.test(value)]).toEqual([value, false]);
  }, 60_000);

  it("answers /metrics on the main port to the server's own token only; /healthz and /readyz to anyone", async () => {
    expect((await fetch(`${served.url}/metrics`)).status).toBe(401);
    const viewer = await api('/tokens', { method: 'POST', body: { name: 'dashboard', role: 'viewer' } });
    expect(viewer.status).toBe(201);
    const asViewer = await fetch(`${served.url}/metrics`, { headers: { authorization: `Bearer ${String(viewer.body.token)}` } });
    expect(asViewer.status).toBe(403);
    const session = await api('/connect/sessions', {
      method: 'POST',
      body: { endUser: { id: 'u-1' }, allowedOrigins: ['https://host.example.com'], connectors: ['front'], mode: 'create' },
    });
    const exchanged = await fetch(`${served.url}/api/v1/connect/exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: session.body.token }),
    });
    const { bearer } = (await exchanged.json()) as { bearer: string };
    expect(bearer).toMatch(/^ccb_/);
    expect((await fetch(`${served.url}/metrics`, { headers: { authorization: `Bearer ${bearer}` } })).status).toBe(403);
    const operator = await fetch(`${served.url}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(operator.status).toBe(200);
    const text = await operator.text();
    expect(total(text, 'credport_connect_sessions_total', { outcome: 'exchanged' })).toBe(1);
    for (const base of [served.url, metricsUrl]) {
      const health = await fetch(`${base}/healthz`);
      const ready = await fetch(`${base}/readyz`);
      expect([health.status, await health.text(), ready.status, await ready.text()]).toEqual([200, 'ok\n', 200, 'ok\n']);
    }
    // Not part of the API's document: the operator's paths, as /openapi.json is.
    const document = await (await fetch(`${served.url}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).json();
    expect(Object.keys((document as { paths: object }).paths).filter((p) => /metrics|healthz|readyz/.test(p))).toEqual([]);
  }, 30_000);
});
