import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Access, withAccess } from '../../src/access/access.js';
import { type Credport, openCredport } from '../../src/open-credport.js';
import { type Served, startServe } from '../helpers/serve.js';
import { randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';
import { ensurePostgres, freshPostgresUri } from '../helpers/test-servers.js';
import { rawStore } from '../helpers/test-store.js';
import { type Receiver, startReceiver } from '../helpers/webhook-receiver.js';

// Issue 26 under faults, end to end: the real `credport serve` (from dist/) delivers the outbox to
// receivers on loopback that fail, hang, go away and come back, is killed mid-delivery, runs twice
// on one PostgreSQL store, and is used by a hostile tenant. Events are written to the outbox by a
// library handle on the same store, as the services do. The receivers verify every delivery with
// the published standardwebhooks package. What a receiver relies on: every event arrives, in the
// order made, under one webhook-id (the same one on every repeat, which is what it de-duplicates
// by), and the signing secret is never anywhere but in the answers that hand it out.

const ACME: Access = { workspace: 'acme', role: 'admin' };
const masterKey = randomMasterKey();
const homes: string[] = [];
const serves: Served[] = [];
const receivers: Receiver[] = [];
const handles: Credport[] = [];
/** Every secret handed out, and where each run's records live: the last test looks for them everywhere. */
const secrets: string[] = [];
const stores: { home: string; storeUri: string | undefined }[] = [];
/** Every API answer that is not the one creating or rotating an endpoint. */
const answers: string[] = [];

beforeAll(async () => {
  await ensurePostgres();
});
afterAll(async () => {
  for (const s of serves) await s.crash();
  for (const h of handles) await h.close().catch(() => undefined);
  for (const r of receivers) await r.close().catch(() => undefined);
  for (const home of homes) await removeHome(home);
});

/** A home (SQLite store in it unless `storeUri`), a library handle on the store, and the env `serve` runs with. */
async function setup(options: { storeUri?: string; origins: string[]; env?: Record<string, string> }) {
  const home = await tempHome();
  homes.push(home);
  stores.push({ home, storeUri: options.storeUri });
  const allowed = options.origins.map((o) => `webhooks=${o}`);
  const credport = await openCredport({
    home,
    ...(options.storeUri ? { storeUri: options.storeUri } : {}),
    masterKey,
    allowedOrigins: allowed,
    env: {},
  });
  handles.push(credport);
  const env: Record<string, string> = {
    CREDPORT_MASTER_KEY: masterKey,
    CREDPORT_ALLOWED_ORIGINS: allowed.join(','),
    CREDPORT_LEASE_MS: '1000',
    // Retries a fifth of a second apart (the loop looks every second), more than any scenario spends.
    CREDPORT_WEBHOOK_RETRY_MS: Array.from({ length: 40 }, () => '200').join(','),
    ...(options.storeUri ? { CREDPORT_STORE: options.storeUri } : {}),
    ...options.env,
  };
  const serve = async () => {
    const served = await startServe({ home, env });
    serves.push(served);
    return served;
  };
  return { home, credport, env, serve };
}

async function receiver(port = 0): Promise<Receiver> {
  const r = await startReceiver(port);
  receivers.push(r);
  return r;
}

async function endpoint(credport: Credport, url: string, access: Access = ACME) {
  const made = await withAccess(access, () => credport.webhooks.create({ url, events: ['credential.created', 'sync.failed'] }));
  secrets.push(made.secret!);
  return { id: made.id, secret: made.secret! };
}

async function until(what: string, done: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  for (const started = Date.now(); !(await done()); await sleep(25))
    if (Date.now() - started > ms) throw new Error(`waited ${ms} ms for ${what}`);
}

const idOf = (r: { headers: Record<string, unknown> }) => String(r.headers['webhook-id']);
/** The ids in the order first received: what a receiver that de-duplicates by webhook-id ends up with. */
const firstSeen = (ids: string[]) => [...new Set(ids)];

/**
 * Every delivery verifies with `secret`; each event (its `data.n`) arrived under one webhook-id only,
 * and the same id always carried the same body. Answers the ids received, in order.
 */
function checkDeliveries(rs: Receiver[], secret: string): string[] {
  const got = rs.flatMap((r) => r.verified(secret));
  const idsOfN = new Map<unknown, Set<string>>();
  const bodyOfId = new Map<string, string>();
  for (const m of got) {
    idsOfN.set(m.data.n, (idsOfN.get(m.data.n) ?? new Set()).add(m.id));
    const body = JSON.stringify({ type: m.type, timestamp: m.timestamp, data: m.data });
    expect(bodyOfId.get(m.id) ?? body).toBe(body);
    bodyOfId.set(m.id, body);
  }
  expect([...idsOfN.entries()].filter(([, ids]) => ids.size > 1)).toEqual([]);
  return got.map((m) => m.id);
}

async function publish(credport: Credport, count: number, from = 0, workspace = 'acme'): Promise<string[]> {
  const ids: string[] = [];
  for (let n = from; n < from + count; n++) ids.push(await credport.outbox.publish(workspace, 'credential.created', { workspace, n }));
  return ids;
}

describe('webhook delivery by `credport serve`, under faults', () => {
  it('a receiver answering 500, then hanging past the timeout, then gone, then back on its port: every event arrives once verified, in the order made', async () => {
    const hook = await receiver();
    const { credport, serve } = await setup({ origins: [hook.origin], env: { CREDPORT_WEBHOOK_TIMEOUT_MS: '300' } });
    const { id, secret } = await endpoint(credport, `${hook.origin}/in`);
    let calls = 0;
    hook.behave(() => (++calls <= 2 ? { status: 500, text: 'down' } : 'hang'));
    await serve();
    const made = await publish(credport, 3);
    await until('two 500s and a hang', () => hook.received.length >= 3);
    await sleep(600); // past CREDPORT_WEBHOOK_TIMEOUT_MS: that attempt has failed
    await hook.close(); // connection refused from now on
    made.push(...(await publish(credport, 3, 3))); // made during the outage: they wait behind the first
    const history = async () => (await withAccess(ACME, () => credport.webhookDeliveries.list(id)))[0]!.attempts;
    await until('a refused attempt', async () => (await history()).some((a) => /ECONNREFUSED/.test(a.error ?? '')));
    const back = await receiver(hook.port);
    await until('all six delivered', () => new Set(back.received.map(idOf)).size === 6);
    await sleep(1_500); // a tick or so more: nothing further is sent

    const ids = checkDeliveries([hook, back], secret);
    // The outage was met as each kind of failure, all on the head event, which was then delivered.
    expect(hook.received.map(idOf)).toEqual([made[0], made[0], made[0]]);
    const attempts = await history();
    expect(attempts.slice(0, 3)).toMatchObject([{ status: 500 }, { status: 500 }, { error: 'the receiver did not answer within 300 ms' }]);
    expect(attempts.at(-1)).toMatchObject({ delivered: true, status: 204 });
    // Back: everything in the order made, each once.
    expect(back.received.map(idOf)).toEqual(made);
    expect(firstSeen(ids)).toEqual(made);
    const listed = await withAccess(ACME, () => credport.webhookDeliveries.list(id));
    expect(listed.map((d) => [d.id, d.status])).toEqual(made.map((m) => [m, 'delivered']));
  }, 40_000);

  it('`kill -9` of serve with a delivery in flight: a new serve sends it again under the same webhook-id, then the rest, in order; nothing lost', async () => {
    const hook = await receiver();
    const { credport, serve } = await setup({ origins: [hook.origin] });
    const { id, secret } = await endpoint(credport, `${hook.origin}/in`);
    const made = await publish(credport, 5);
    hook.behave((r) => (idOf(r) === made[2] ? 'hang' : { status: 204 }));
    const first = await serve();
    await until('the third event in flight', () => hook.received.some((r) => idOf(r) === made[2]));
    await first.crash();
    hook.behave(() => ({ status: 204 }));
    made.push(...(await publish(credport, 2, 5))); // made while no serve runs
    await serve();
    await until('all seven delivered', () => new Set(hook.received.map(idOf)).size === 7 && idOf(hook.received.at(-1)!) === made[6]);
    await sleep(1_500);

    const ids = checkDeliveries([hook], secret);
    // The one in flight when serve died came again, with its id; nothing else twice, nothing lost, in order.
    expect(ids).toEqual([made[0], made[1], made[2], made[2], made[3], made[4], made[5], made[6]]);
    const listed = await withAccess(ACME, () => credport.webhookDeliveries.list(id));
    expect(listed.map((d) => d.status)).toEqual(Array(7).fill('delivered'));
  }, 40_000);

  it('two serves on one PostgreSQL store, 220 events to two endpoints: each arrives once per endpoint (bar same-id repeats), in the order made', async () => {
    const hooks = [await receiver(), await receiver()];
    const { credport, serve } = await setup({ storeUri: await freshPostgresUri(), origins: hooks.map((h) => h.origin) });
    const endpoints = [await endpoint(credport, `${hooks[0]!.origin}/in`), await endpoint(credport, `${hooks[1]!.origin}/in`)];
    await Promise.all([serve(), serve()]);
    const made: string[] = [];
    // Made while both deliver: in bursts, so fan-out and the lanes run between and during them.
    for (let burst = 0; burst < 11; burst++) {
      made.push(...(await publish(credport, 20, made.length)));
      await sleep(50);
    }
    await until('220 events at each endpoint', () => hooks.every((h) => new Set(h.received.map(idOf)).size === 220), 60_000);
    await sleep(1_500);

    const repeats = hooks.map((hook, i) => {
      const ids = checkDeliveries([hook], endpoints[i]!.secret);
      expect(firstSeen(ids)).toEqual(made);
      return ids.length - made.length;
    });
    // Same-id repeats are allowed (at least once); the run says how many there were. Nothing crashed here,
    // so only a lease that ran out under a starved renewal (a loaded machine, 1 s leases) makes one, a
    // couple at each takeover; dozens mean two processes sent to one endpoint at once (the endpoint's
    // lease not holding: 20 to 95 repeats when broken by hand).
    console.log(`two serves on PostgreSQL, 220 events: same-id repeats at each endpoint: ${repeats.join(', ')}`);
    for (const n of repeats) expect(n).toBeLessThanOrEqual(5);
  }, 90_000);

  it('a hostile tenant: refused URLs answer naming /url; a receiver answering 307 during a real delivery is not followed, the attempt failed with its status', async () => {
    const target = await receiver();
    const redirecting = await receiver();
    redirecting.behave(() => ({ status: 307, location: `${target.origin}/stolen` }));
    const { credport, serve } = await setup({ origins: [target.origin, redirecting.origin] });
    const tenant = { workspace: 'mallory', role: 'admin' } as const;
    const { token } = await withAccess(tenant, () => credport.tokens.create({ name: 'mallory', role: 'admin' }));
    const served = await serve();
    const api = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${served.url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };

    // Forms of loopback and private addresses that test/integration/webhooks.test.ts does not try.
    for (const url of [
      'https://2130706433/hook', // 127.0.0.1 as one number
      'https://0x7f.1/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://0.0.0.0/hook',
      'https://localhost./hook',
      'https://[fd00::1]/hook',
      'https://172.16.0.1/hook',
    ]) {
      const refused = await api('POST', '/webhooks', { url, events: ['sync.failed'] });
      answers.push(refused.text);
      expect([url, refused.status, refused.body.field]).toEqual([url, 403, '/url']);
    }

    const created = await api('POST', '/webhooks', { url: `${redirecting.origin}/in`, events: ['credential.created'] });
    expect(created.status).toBe(201);
    secrets.push(String(created.body.secret));
    const rotated = await api('POST', `/webhooks/${created.body.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    secrets.push(String(rotated.body.secret));
    const [event] = await publish(credport, 1, 0, 'mallory');
    await until('the redirect answered', () => redirecting.received.length >= 1);
    const deliveries = async () => {
      const listed = await api('GET', `/webhooks/${created.body.id}/deliveries`);
      answers.push(listed.text);
      expect(listed.status).toBe(200);
      return JSON.parse(listed.text) as {
        id: string;
        status: string;
        attempts: { delivered: boolean; status?: number; error?: string }[];
      }[];
    };
    await until('the attempt recorded', async () => ((await deliveries())[0]?.attempts.length ?? 0) >= 1);
    const [delivery] = await deliveries();
    expect(delivery).toMatchObject({ id: event, status: 'pending' });
    expect(delivery!.attempts[0]).toMatchObject({
      delivered: false,
      status: 307,
      error: expect.stringMatching(/redirects are not followed/),
    });
    await sleep(1_200); // a retry or so later: still not followed
    expect(target.received).toEqual([]);
    expect(redirecting.verified(String(rotated.body.secret)).map((m) => m.id)[0]).toBe(event);
    for (const path of ['/webhooks', `/webhooks/${created.body.id}`]) answers.push((await api('GET', path)).text);
  }, 40_000);

  it('no secret anywhere: not in the store (raw bytes), not in any serve output, not in any API answer but create and rotate', async () => {
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    const outputs = serves.map((s) => s.output()).join('\n');
    const stored: Buffer[] = [];
    for (const { home, storeUri } of stores) {
      const raw = await rawStore(home, storeUri);
      try {
        stored.push(await raw.bytes());
      } finally {
        await raw.close();
      }
    }
    const bytes = Buffer.concat(stored);
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.includes('webhook-delivery:')).toBe(true);
    for (const secret of secrets) {
      const body = secret.slice('whsec_'.length);
      for (const needle of [secret, body]) {
        expect(bytes.includes(needle)).toBe(false);
        expect(outputs.includes(needle)).toBe(false);
        expect(answers.filter((a) => a.includes(needle))).toEqual([]);
      }
    }
  });
});
