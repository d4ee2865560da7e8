import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { withAccess } from '../../src/access/access.js';
import { type Credport, openCredport } from '../../src/open-credport.js';
import type { Access } from '../../src/access/access.js';
import type { WebhookEventType } from '../../src/generated/webhook-event-type.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';
import { rawStore, testStoreUri } from '../helpers/test-store.js';
import { type Receiver, startReceiver } from '../helpers/webhook-receiver.js';

// Issue 26: events in the outbox reach a workspace's endpoints, signed (checked here with the
// published standardwebhooks package), in order, at least once, with the same webhook-id on every
// retry; a receiver that fails is retried on the schedule, then its endpoint is disabled; a failed
// delivery can be sent again. On SQLite, PostgreSQL and Redis (jest.config.js storeSuites).

let home: string;
let credport: Credport;
let hook: Receiver;
let clock: number;
const ACME = { workspace: 'acme', role: 'admin' } as const;
const asAcme = <T>(run: () => Promise<T>) => withAccess(ACME, run);

let storeUri: string | undefined;

async function open(): Promise<Credport> {
  return openCredport({
    home,
    ...(storeUri ? { storeUri } : {}),
    masterKey: Buffer.alloc(32, 7).toString('base64'),
    allowedOrigins: [`webhooks=${hook.origin}`],
    env: { CREDPORT_WEBHOOK_RETRY_MS: '1000,1000,1000' },
  });
}

async function endpoint(events: WebhookEventType[] = ['credential.created', 'sync.failed'], workspace: Access = ACME) {
  return withAccess(workspace, () => credport.webhooks.create({ url: `${hook.origin}/hooks`, events }));
}

beforeEach(async () => {
  home = await tempHome();
  hook = await startReceiver();
  storeUri = await testStoreUri();
  credport = await open();
  // The loop's clock: the retry schedule's waits pass when a test says (deliverAfter).
  clock = Date.now();
  jest.spyOn(Date, 'now').mockImplementation(() => clock);
});

afterEach(async () => {
  jest.restoreAllMocks();
  await credport.close();
  await hook.close();
  await removeHome(home);
});

/** Runs the loop with its clock moved on (the retry schedule's waits pass at once). */
async function deliverAfter(ms: number): Promise<void> {
  clock += ms;
  await credport.deliverWebhooksNow();
}

describe('delivery from the outbox', () => {
  it('sends each event to each subscribed endpoint of its workspace, signed, in order, once', async () => {
    const { secret } = await endpoint();
    const other = await endpoint(['credential.created'], { workspace: 'other', role: 'admin' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await credport.outbox.publish('acme', 'credential.created', { workspace: 'acme', n: i }));
    await credport.outbox.publish('acme', 'credential.deleted', { workspace: 'acme' }); // not subscribed
    await credport.deliverWebhooksNow();
    const got = hook.verified(secret);
    expect(got.map((m) => m.id)).toEqual(ids);
    expect(got.map((m) => m.data.n)).toEqual([0, 1, 2, 3, 4]);
    expect(got.every((m) => m.type === 'credential.created')).toBe(true);
    // The other workspace's endpoint heard nothing of acme's events.
    const seen = await withAccess({ workspace: 'other', role: 'admin' }, () => credport.webhookDeliveries.list(other.id));
    expect(seen).toEqual([]);
    // Nothing is sent twice on later passes.
    await credport.deliverWebhooksNow();
    expect(hook.received).toHaveLength(5);
    const listed = await asAcme(async () => credport.webhookDeliveries.list((await credport.webhooks.list())[0]!.id));
    expect(listed.map((d) => [d.id, d.status, d.attempts.length])).toEqual(ids.map((id) => [id, 'delivered', 1]));
    expect(listed[0]!.attempts[0]).toMatchObject({ delivered: true, status: 204 });
  });

  it('retries a failing receiver with the same webhook-id and keeps later events behind it, in order', async () => {
    const { id, secret } = await endpoint();
    hook.behave(() => ({ status: 500, text: 'receiver down' }));
    const first = await credport.outbox.publish('acme', 'credential.created', { workspace: 'acme', n: 1 });
    const second = await credport.outbox.publish('acme', 'credential.created', { workspace: 'acme', n: 2 });
    await credport.deliverWebhooksNow();
    // Only the head was tried: the second waits behind it.
    expect(hook.received.map((r) => r.headers['webhook-id'])).toEqual([first]);
    let listed = await asAcme(() => credport.webhookDeliveries.list(id));
    expect(listed[0]).toMatchObject({
      id: first,
      status: 'pending',
      attempts: [{ delivered: false, status: 500, response: 'receiver down' }],
    });
    expect(listed[0]!.nextAttemptAt).toBeDefined();
    expect(listed[1]).toMatchObject({ id: second, status: 'pending', attempts: [] });
    // Not yet due: nothing is sent.
    await credport.deliverWebhooksNow();
    expect(hook.received).toHaveLength(1);
    hook.behave(() => ({ status: 200 }));
    await deliverAfter(2000);
    const got = hook.verified(secret);
    expect(got.map((m) => m.id)).toEqual([first, first, second]);
    listed = await asAcme(() => credport.webhookDeliveries.list(id));
    expect(listed.map((d) => d.status)).toEqual(['delivered', 'delivered']);
  });

  it('marks a delivery failed when the schedule is spent, disables the endpoint with the reason, and sends again on request', async () => {
    const { id, secret } = await endpoint();
    hook.behave(() => ({ status: 503 }));
    const first = await credport.outbox.publish('acme', 'credential.created', { workspace: 'acme', n: 1 });
    const second = await credport.outbox.publish('acme', 'credential.created', { workspace: 'acme', n: 2 });
    for (let i = 0; i < 5; i++) await deliverAfter(1300);
    // 1 try + 3 retries, all of the head.
    expect(hook.received.map((r) => r.headers['webhook-id'])).toEqual([first, first, first, first]);
    const shown = await asAcme(() => credport.webhooks.get(id));
    expect(shown.enabled).toBe(false);
    expect(shown.disabledReason).toMatch(/deliveries failed since .*4 attempts of credential.created .*the receiver answered 503/);
    let listed = await asAcme(() => credport.webhookDeliveries.list(id));
    expect(listed.map((d) => d.status)).toEqual(['failed', 'pending']);
    // Recovered: enabled again, the waiting event goes; the failed one goes when asked for.
    hook.behave(() => ({ status: 204 }));
    await asAcme(() => credport.webhooks.update(id, { enabled: true }));
    await deliverAfter(0);
    expect(hook.received.at(-1)!.headers['webhook-id']).toBe(second);
    await expect(asAcme(() => credport.webhookDeliveries.redeliver(id, second))).rejects.toMatchObject({ code: 'delivery_not_failed' });
    const again = await asAcme(() => credport.webhookDeliveries.redeliver(id, first));
    expect(again).toMatchObject({ id: first, status: 'pending' });
    await deliverAfter(0);
    expect(hook.verified(secret).map((m) => m.id)).toEqual([first, first, first, first, second, first]);
    listed = await asAcme(() => credport.webhookDeliveries.list(id));
    expect(listed.map((d) => d.status)).toEqual(['delivered', 'delivered']);
    const trail = await asAcme(() => credport.audit.list());
    expect(trail.map((e) => e.action)).toEqual(expect.arrayContaining(['webhook.disabled', 'webhook.redelivered']));
  });

  it('keeps a slow receiver from holding back another endpoint', async () => {
    jest.restoreAllMocks(); // the running loop ticks on the real clock
    const slow = await startReceiver();
    try {
      slow.behave(() => 'hang');
      credport.outbound.allow(`webhooks=${slow.origin}`);
      await asAcme(() => credport.webhooks.create({ url: `${slow.origin}/hooks`, events: ['credential.created'] }));
      const { secret } = await endpoint();
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await credport.outbox.publish('acme', 'credential.created', { workspace: 'acme', n: i }));
      const running = credport.deliverWebhooks({ everyMs: 50 });
      const deadline = Date.now() + 5000;
      while (hook.received.length < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // All twenty reached the quick receiver while the slow one still holds its first (10 s timeout).
      expect(hook.verified(secret).map((m) => m.id)).toEqual(ids);
      expect(slow.received).toHaveLength(1);
      await slow.close();
      await running.stop();
    } finally {
      await slow.close().catch(() => undefined);
    }
  });

  it('shares the work between two processes on one store: each event once, in order (the endpoint lease)', async () => {
    const { secret } = await endpoint();
    const second = await openCredport({
      home,
      storeUri: credport.location.uri,
      masterKey: Buffer.alloc(32, 7).toString('base64'),
      allowedOrigins: [`webhooks=${hook.origin}`],
    });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) ids.push(await credport.outbox.publish('acme', 'credential.created', { workspace: 'acme', n: i }));
      await Promise.all([credport.deliverWebhooksNow(), second.deliverWebhooksNow(), credport.deliverWebhooksNow()]);
      await Promise.all([credport.deliverWebhooksNow(), second.deliverWebhooksNow()]);
      expect(hook.verified(secret).map((m) => m.id)).toEqual(ids);
    } finally {
      await second.close();
    }
  });

  it('sends an event made in this process at once, not at the next tick', async () => {
    jest.restoreAllMocks();
    const { secret } = await endpoint();
    const running = credport.deliverWebhooks({ everyMs: 60_000 });
    try {
      await new Promise((r) => setTimeout(r, 100)); // the first tick is over: the next is a minute away
      const id = await credport.outbox.publish('acme', 'credential.created', { workspace: 'acme' });
      const deadline = Date.now() + 3000;
      while (hook.received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(hook.verified(secret).map((m) => m.id)).toEqual([id]);
    } finally {
      await running.stop();
    }
  });

  it("settles an intent a crash left, once it is older than the grace period, and delivers the change's event", async () => {
    const { secret } = await endpoint(['credential.created']);
    // The process dies between writing the marked record and making its event ready.
    const events = (credport.outbox as unknown as { events: { swap: (...a: unknown[]) => Promise<boolean> } }).events;
    jest.spyOn(events, 'swap').mockImplementationOnce(async () => {
      throw new Error('crash');
    });
    await expect(
      asAcme(() => credport.credentials.create({ connector: 'front', values: { name: 'Support', apiKey: 'k'.repeat(24) }, verify: false })),
    ).rejects.toThrow('crash');
    await credport.deliverWebhooksNow();
    expect(hook.received).toHaveLength(0); // still an intent: its change may be in flight
    clock += 61_000;
    credport = await reopened(); // a new process: it settles intents at its first pass
    await credport.deliverWebhooksNow();
    const [event] = hook.verified(secret);
    expect(event).toMatchObject({ type: 'credential.created', data: { workspace: 'acme', credential: { name: 'Support' } } });
  });

  it('drops the deliveries of a deleted endpoint, and holds those of a disabled one until it is enabled', async () => {
    const gone = await endpoint();
    const paused = await endpoint();
    await asAcme(() => credport.webhooks.update(paused.id, { enabled: false }));
    hook.behave(() => ({ status: 500 }));
    const id = await credport.outbox.publish('acme', 'credential.created', { workspace: 'acme' });
    await credport.deliverWebhooksNow();
    await asAcme(() => credport.webhooks.update(paused.id, { enabled: true }));
    hook.behave(() => ({ status: 204 }));
    await asAcme(() => credport.webhooks.delete(gone.id));
    await deliverAfter(60_000);
    // The disabled endpoint got nothing (it was disabled when the event came); the deleted one's delivery is gone.
    expect(hook.received.map((r) => r.headers['webhook-id'])).toEqual([id]);
    const records = await (
      credport as unknown as { webhookDeliveries: { deliveries: { all(): Promise<unknown[]> } } }
    ).webhookDeliveries.deliveries.all();
    expect(records).toHaveLength(0);
  });

  it('keeps the newest 200 delivered records per endpoint', async () => {
    const { id } = await endpoint();
    for (let i = 0; i < 205; i++) await credport.outbox.publish('acme', 'credential.created', { workspace: 'acme', n: i });
    await credport.deliverWebhooksNow();
    const listed = await asAcme(() => credport.webhookDeliveries.list(id));
    expect(listed).toHaveLength(200);
    expect(hook.received).toHaveLength(205);
    expect(listed[0]!.id).toBe(hook.received[5]!.headers['webhook-id']);
  });

  it('answers a redelivery of another workspace endpoint as not found, and a malformed id by its field', async () => {
    const { id } = await endpoint();
    await expect(
      withAccess({ workspace: 'other', role: 'admin' }, () => credport.webhookDeliveries.redeliver(id, 'msg_17650000000000123456789abc')),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(asAcme(() => credport.webhookDeliveries.redeliver(id, 'nope'))).rejects.toMatchObject({ field: 'deliveryId' });
    await expect(withAccess({ workspace: 'acme', role: 'editor' }, () => credport.webhookDeliveries.list(id))).rejects.toMatchObject({
      code: 'forbidden',
    });
  });

  it('keeps nothing of the body but ids and data, and no secret in any delivery record', async () => {
    const { secret } = await endpoint();
    await credport.outbox.publish('acme', 'credential.created', { workspace: 'acme' });
    await credport.deliverWebhooksNow();
    const raw = await rawStore(home, await storeUriOf());
    try {
      const bytes = await raw.bytes();
      expect(bytes.includes(secret.slice('whsec_'.length))).toBe(false);
      expect(bytes.includes(secret)).toBe(false);
    } finally {
      await raw.close();
    }
  });
});

/** The same store opened again, as a new process would. */
async function reopened(): Promise<Credport> {
  await credport.close();
  return open();
}

async function storeUriOf(): Promise<string | undefined> {
  const uri = credport.location.uri;
  return uri.startsWith('sqlite:') ? undefined : uri;
}
