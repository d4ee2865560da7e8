// Every action that makes a webhook event writes it through the outbox (issue 26): after each one the
// outbox holds exactly the expected ready events, in order, each valid against its schema, with no
// intent left behind; a failed verification, a failed write or a refused input leaves nothing; a
// crash between the change and the ready step is settled by recover(). Front's emulator on loopback
// answers for the provider.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { withAccess } from '../../src/access/access.js';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import type { WebhookEventType } from '../../src/generated/webhook-event-type.js';
import { type Credport, openCredport } from '../../src/open-credport.js';
import type { Collection } from '../../src/store/collection.js';
import type { CredentialRecords } from '../../src/store/credential-records.js';
import { Outbox, type OutboxEvent } from '../../src/webhooks/outbox.js';
import { fakeToken, removeHome, tempHome } from '../helpers/temp-home.js';
import { testStoreUri } from '../helpers/test-store.js';
import { eventProblem } from '../helpers/webhook-event-contract.js';
import { startReceiver } from '../helpers/webhook-receiver.js';

let front: FrontEmulator;
let home: string;
let credport: Credport;
const first = fakeToken('wh1');
const second = fakeToken('wh2');
const third = fakeToken('wh3');
const SECRETS = [first, second, third];

beforeAll(async () => (front = await new FrontEmulator({ tokens: SECRETS, records: 3 }).start()));
afterAll(() => front.stop());
beforeEach(async () => {
  home = await tempHome();
  for (const token of SECRETS) front.tokens.add(token);
  credport = await openCredport({
    home,
    storeUri: await testStoreUri(),
    env: { CREDPORT_HTTP_RETRIES: '0', CREDPORT_HTTP_TIMEOUT_MS: '2000' },
    // A workspace's (and a connect session's) credentials may point at the emulator on loopback.
    allowedOrigins: [`front=${front.url}`],
  });
});
afterEach(async () => {
  jest.restoreAllMocks();
  await credport.close();
  await removeHome(home);
});

/** The outbox's own collection (private to it): the intents are not for anyone else to read. */
const eventsOf = (outbox: Outbox) => (outbox as unknown as { events: Collection<OutboxEvent> }).events;
const recordsOf = (c: Credport) => (c.credentials as unknown as { deps: { records: CredentialRecords } }).deps.records;

/**
 * The ready events the last actions made, oldest first, each checked against its schema and for
 * secrets; fails if any intent is left. They are then let go of, so the next call sees only new ones.
 */
async function take(): Promise<{ type: WebhookEventType; data: Record<string, unknown> }[]> {
  const all = await eventsOf(credport.outbox).entries();
  expect(all.filter(([, e]) => (e as OutboxEvent).state !== 'ready')).toEqual([]);
  const ready = await credport.outbox.readyEvents();
  for (const event of ready) {
    const body = { type: event.type!, timestamp: event.timestamp, data: event.data! };
    expect(eventProblem(body)).toBeUndefined();
    const text = JSON.stringify(body);
    for (const secret of SECRETS) expect(text.includes(secret)).toBe(false);
    expect(text).not.toMatch(/sealed|"ct"|bearer|@/);
    await credport.outbox.done(event.id);
  }
  return ready.map((e) => ({ type: e.type!, data: e.data! }));
}
const types = async () => (await take()).map((e) => e.type);

const add = (apiKey: string, extra: Record<string, unknown> = {}) =>
  credport.credentials.create({ connector: 'front', values: { name: 'Support', apiKey }, baseUrl: front.url, ...extra });

describe('credential events', () => {
  it('created, verified, invalidated once, verified + recovered, rotated, rotated + recovered, deleted: each with the tile', async () => {
    const tile = await add(first);
    const created = await take();
    expect(created).toEqual([{ type: 'credential.created', data: { workspace: 'default', credential: tile } }]);

    await credport.credentials.test(tile.id);
    expect(await types()).toEqual(['credential.verified']);

    front.tokens.delete(first); // revoked in Front
    await expect(credport.credentials.test(tile.id)).rejects.toMatchObject({ code: 'provider_rejected' });
    const [invalidated, ...none] = await take();
    expect(none).toEqual([]);
    expect(invalidated).toEqual({
      type: 'credential.invalidated',
      data: {
        workspace: 'default',
        credential: expect.objectContaining({
          id: tile.id,
          status: 'invalid',
          invalidAt: expect.any(String),
          invalidReason: 'Front rejected the credential: 401 Unauthenticated: Invalid or missing API token (GET /me)',
        }),
        cause: 'test',
      },
    });
    // Refused again while invalid: the tile's words and time are refreshed, and no new event is sent.
    await expect(credport.credentials.test(tile.id)).rejects.toMatchObject({ code: 'provider_rejected' });
    expect(await types()).toEqual([]);

    front.tokens.add(first); // the provider accepts it again
    await credport.credentials.test(tile.id);
    const back = await take();
    expect(back.map((e) => e.type)).toEqual(['credential.verified', 'credential.recovered']);
    expect(back[1]!.data.credential).toMatchObject({ status: 'verified' });
    expect(back[1]!.data.credential).not.toHaveProperty('invalidReason');

    await credport.credentials.rotate(tile.id, { secrets: { apiKey: second } });
    expect(await types()).toEqual(['credential.rotated']);

    front.tokens.delete(second);
    await expect(credport.credentials.test(tile.id)).rejects.toMatchObject({ code: 'provider_rejected' });
    expect(await types()).toEqual(['credential.invalidated']);
    await credport.credentials.rotate(tile.id, { secrets: { apiKey: third } });
    const rotated = await take();
    expect(rotated.map((e) => e.type)).toEqual(['credential.rotated', 'credential.recovered']);
    expect(rotated[0]!.data.credential).toMatchObject({ status: 'verified', secretHint: third.slice(-4) });

    const before = await credport.credentials.show(tile.id);
    await credport.credentials.delete(tile.id);
    expect(await take()).toEqual([{ type: 'credential.deleted', data: { workspace: 'default', credential: before } }]);
  });

  it('an invalid credential rotated without verification is rotated, not recovered; a rename makes no event', async () => {
    const tile = await add(first);
    front.tokens.delete(first);
    await expect(credport.credentials.test(tile.id)).rejects.toMatchObject({ code: 'provider_rejected' });
    await take();
    await credport.credentials.update(tile.id, { name: 'Renamed' });
    expect(await types()).toEqual([]);
    await credport.credentials.rotate(tile.id, { secrets: { apiKey: second }, verify: false });
    expect(await types()).toEqual(['credential.rotated']);
  });

  it('a failed verification, a refused input, a failed write and an outage leave no event and no intent', async () => {
    front.tokens.delete(first);
    await expect(add(first)).rejects.toMatchObject({ code: 'provider_rejected' });
    await expect(add(second, { values: { name: '', apiKey: second } })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(add('short')).rejects.toMatchObject({ exitCode: 2 });
    const put = jest.spyOn(recordsOf(credport), 'put').mockRejectedValueOnce(new Error('disk full'));
    await expect(add(second)).rejects.toThrow('disk full');
    put.mockRestore();
    expect(await types()).toEqual([]);
    expect(await credport.credentials.list()).toEqual([]);

    const tile = await add(second);
    await take();
    await expect(credport.credentials.rotate(tile.id, { secrets: { apiKey: first } })).rejects.toMatchObject({ code: 'provider_rejected' });
    const swap = jest.spyOn(recordsOf(credport), 'swap').mockRejectedValueOnce(new Error('disk full'));
    await expect(credport.credentials.rotate(tile.id, { secrets: { apiKey: third } })).rejects.toThrow('disk full');
    swap.mockRestore();
    expect(await types()).toEqual([]);

    const away = await credport.credentials.create({
      connector: 'front',
      values: { name: 'Away', apiKey: third },
      baseUrl: 'http://127.0.0.1:9',
      verify: false,
    });
    await take();
    await expect(credport.credentials.test(away.id)).rejects.toMatchObject({ exitCode: 4 }); // an outage changes nothing
    expect(await types()).toEqual([]);
  });

  it('re-verification marking a revoked key invalid sends credential.invalidated (cause reverify); reconnecting it sends rotated + recovered + the session completed', async () => {
    const ACME = { workspace: 'acme', role: 'admin' } as const;
    const tile = await withAccess(ACME, () => add(first));
    await take();
    front.tokens.delete(first);
    const summary = await withAccess(ACME, () => credport.reverify({ olderThanMs: 0 }));
    expect(summary).toMatchObject({ refused: 1 });
    const [invalidated] = await take();
    expect(invalidated).toMatchObject({
      type: 'credential.invalidated',
      data: { workspace: 'acme', cause: 'reverify', credential: { id: tile.id, status: 'invalid' } },
    });

    const session = await withAccess(ACME, () =>
      credport.connect.createSession({
        mode: 'reconnect',
        credentialId: tile.id,
        endUser: { id: 'user-42', email: 'ada@example.com', displayName: 'Ada' },
        allowedOrigins: ['https://app.example.com'],
      }),
    );
    const bearer = await credport.connect.authenticate((await credport.connect.exchange(session.token)).bearer);
    await withAccess(bearer!, () => credport.credentials.rotate(tile.id, { secrets: { apiKey: second } }));
    const events = await take();
    expect(events.map((e) => e.type)).toEqual(['credential.rotated', 'credential.recovered', 'connect.session.completed']);
    expect(events[2]!.data).toEqual({
      workspace: 'acme',
      session: {
        id: session.id,
        mode: 'reconnect',
        endUserId: 'user-42',
        outcome: { action: 'repaired', credentialId: tile.id, at: expect.any(String) },
      },
    });
    // The session's view shows no event marks.
    expect(await withAccess(ACME, () => credport.connect.getSession(session.id))).not.toHaveProperty('events');
  });

  it('a saved credential the outbound policy now refuses is marked invalid with credential.invalidated (cause policy), once', async () => {
    const ACME = { workspace: 'acme', role: 'admin', confined: true } as const; // a workspace's API token: a tenant
    const tile = await withAccess(ACME, () => add(first));
    await take();
    // The same store opened by a process whose operator no longer allows the emulator's origin.
    const strict = await openCredport({ home, storeUri: credport.location.uri, env: { CREDPORT_HTTP_RETRIES: '0' } });
    try {
      for (let i = 0; i < 2; i++)
        await expect(withAccess(ACME, () => strict.credentials.test(tile.id))).rejects.toMatchObject({ code: 'outbound_refused' });
    } finally {
      await strict.close();
    }
    const events = await take();
    expect(events).toMatchObject([
      { type: 'credential.invalidated', data: { workspace: 'acme', cause: 'policy', credential: { id: tile.id, status: 'invalid' } } },
    ]);
  });

  it('a connect session that creates a credential sends credential.created then connect.session.completed, once', async () => {
    const ACME = { workspace: 'acme', role: 'editor' } as const;
    const session = await withAccess(ACME, () =>
      credport.connect.createSession({ mode: 'create', endUser: { id: 'user-7' }, allowedOrigins: ['https://app.example.com'] }),
    );
    const bearer = await credport.connect.authenticate((await credport.connect.exchange(session.token)).bearer);
    const tile = await withAccess(bearer!, () => add(first));
    const events = await take();
    expect(events.map((e) => e.type)).toEqual(['credential.created', 'connect.session.completed']);
    expect(events[1]!.data).toMatchObject({ session: { mode: 'create', outcome: { action: 'created', credentialId: tile.id } } });
    // The first outcome stays: a second one changes nothing and sends nothing.
    await credport.connect.recordOutcome(session.id, 'created', tile.id);
    expect(await types()).toEqual([]);
  });
});

describe('sync events', () => {
  it('a run that returns sends sync.succeeded with its summary; a 401 during a run sends credential.invalidated (cause sync) then sync.failed', async () => {
    const tile = await add(first);
    const source = await credport.configs.addSource({ name: 'Front', connector: 'front', credentialId: tile.id, streams: ['tags'] });
    const destination = await credport.configs.addDestination({ name: 'Files', connector: 'jsonl', path: join(home, 'out') });
    await take();
    const summary = await credport.syncs.run(source.id, destination.id, { jobId: 'sync_test' });
    expect(await take()).toEqual([
      {
        type: 'sync.succeeded',
        data: { workspace: 'default', sync: { sourceId: source.id, destinationId: destination.id, jobId: 'sync_test' }, summary },
      },
    ]);

    front.tokens.delete(first);
    const error = await credport.syncs.run(source.id, destination.id, { fullRefresh: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'provider_rejected' });
    const failed = await take();
    expect(failed.map((e) => e.type)).toEqual(['credential.invalidated', 'sync.failed']);
    expect(failed[0]!.data).toMatchObject({ cause: 'sync', credential: { id: tile.id, status: 'invalid' } });
    expect(failed[1]!.data).toEqual({
      workspace: 'default',
      sync: { sourceId: source.id, destinationId: destination.id },
      error: { code: 'provider_rejected', message: (error as Error).message },
    });

    // A request refused before anything runs is not a run: no event.
    await expect(credport.syncs.run(source.id, destination.id, { streams: ['nope'] })).rejects.toMatchObject({ code: 'invalid_input' });
    expect(await types()).toEqual([]);
  });
});

describe('a crash between the change and the ready step', () => {
  /** The outbox's collection refuses the next ready swap once (the process died there). */
  function crashAtReady(): void {
    jest.spyOn(eventsOf(credport.outbox), 'swap').mockImplementationOnce(async () => {
      throw new Error('crash');
    });
  }
  /** recover() as a later process runs it, past the grace period: the same store, the services' subjects. */
  function later(): Outbox {
    const outbox = new Outbox(eventsOf(credport.outbox), { graceMs: -1 });
    outbox.register('credential', credport.credentials.eventSubject());
    outbox.register('connect', credport.connect.eventSubject());
    return outbox;
  }

  it('is settled by recover: a marked record makes its events ready, an unmarked one drops the intent, a gone one readies the delete', async () => {
    crashAtReady();
    await expect(add(first)).rejects.toThrow('crash');
    const [tile] = await credport.credentials.list();
    expect(await later().recover()).toBe(1);
    expect(await take()).toEqual([{ type: 'credential.created', data: { workspace: 'default', credential: tile } }]);

    // An intent whose change never landed (written by hand: the record carries no mark of it).
    const at = Date.now() - 1000;
    const lost: OutboxEvent = {
      v: 1,
      id: `msg_${at}000000000001`, // the outbox's form: 13 digits of time, 4 of sequence, 8 hex
      state: 'intent',
      workspace: '',
      timestamp: new Date(at).toISOString(),
      subject: { kind: 'credential', id: tile!.id, expect: 'marked' },
    };
    await eventsOf(credport.outbox).insert(lost.id, lost);
    expect(await later().recover()).toBe(0);
    expect(await eventsOf(credport.outbox).entries()).toEqual([]);

    crashAtReady();
    await expect(credport.credentials.delete(tile!.id)).rejects.toThrow('crash');
    expect(await later().recover()).toBe(1);
    expect(await take()).toEqual([{ type: 'credential.deleted', data: { workspace: 'default', credential: tile } }]);
  });

  it("settles a test's two events, and a connect session's outcome, from the records as written", async () => {
    const tile = await add(first);
    front.tokens.delete(first);
    await expect(credport.credentials.test(tile.id)).rejects.toMatchObject({ code: 'provider_rejected' });
    await take();
    front.tokens.add(first);
    crashAtReady();
    await expect(credport.credentials.test(tile.id)).rejects.toThrow('crash');
    expect(await later().recover()).toBe(2);
    expect(await types()).toEqual(['credential.verified', 'credential.recovered']);

    const session = await credport.connect.createSession({ mode: 'pick', endUser: { id: 'u1' }, allowedOrigins: ['https://a.example'] });
    crashAtReady();
    await expect(credport.connect.recordOutcome(session.id, 'picked', tile.id)).rejects.toThrow('crash');
    expect(await later().recover()).toBe(1);
    expect(await take()).toMatchObject([{ type: 'connect.session.completed', data: { session: { outcome: { action: 'picked' } } } }]);
  });
});

describe('end to end to a receiver', () => {
  it('every one of the nine event types reaches an endpoint subscribed to all, signed (standardwebhooks verifies it), valid, in the order the actions happened', async () => {
    const hook = await startReceiver();
    try {
      credport.outbound.allow(`webhooks=${hook.origin}`);
      const all: WebhookEventType[] = [
        'credential.created',
        'credential.verified',
        'credential.invalidated',
        'credential.recovered',
        'credential.rotated',
        'credential.deleted',
        'connect.session.completed',
        'sync.succeeded',
        'sync.failed',
      ];
      const { secret } = await credport.webhooks.create({ url: `${hook.origin}/in`, events: all });
      const tile = await add(first);
      await credport.credentials.test(tile.id);
      const source = await credport.configs.addSource({ name: 'Front', connector: 'front', credentialId: tile.id, streams: ['tags'] });
      const destination = await credport.configs.addDestination({ name: 'Files', connector: 'jsonl', path: join(home, 'out') });
      await credport.syncs.run(source.id, destination.id);
      // The key is revoked at the provider: re-verification marks it invalid; a run fails.
      front.tokens.delete(first);
      await credport.reverify({ olderThanMs: 0 });
      await credport.syncs.run(source.id, destination.id, { fullRefresh: true }).catch(() => undefined);
      // The end user reconnects it with a new key through a connect session.
      const session = await credport.connect.createSession({
        mode: 'reconnect',
        credentialId: tile.id,
        endUser: { id: 'user-42' },
        allowedOrigins: ['https://app.example.com'],
      });
      const bearer = await credport.connect.authenticate((await credport.connect.exchange(session.token)).bearer);
      await withAccess(bearer!, () => credport.credentials.rotate(tile.id, { secrets: { apiKey: second } }));
      await credport.credentials.delete(tile.id, { force: true });
      await credport.deliverWebhooksNow();

      const got = hook.verified(secret);
      expect(got.map((m) => m.type)).toEqual([
        'credential.created',
        'credential.verified',
        'sync.succeeded',
        'credential.invalidated',
        'sync.failed',
        'credential.rotated',
        'credential.recovered',
        'connect.session.completed',
        'credential.deleted',
      ]);
      expect(new Set(got.map((m) => m.type))).toEqual(new Set(all));
      for (const message of got) {
        const { id: _id, ...body } = message;
        expect(eventProblem(body as Parameters<typeof eventProblem>[0])).toBeUndefined();
        expect(message.data.workspace).toBe('default');
      }
      expect(new Set(got.map((m) => m.id)).size).toBe(got.length);
      expect(got[3]!.data).toMatchObject({ cause: 'reverify', credential: { id: tile.id, status: 'invalid' } });
      const bodies = hook.received.map((r) => r.body).join('\n');
      for (const secretValue of [...SECRETS, secret]) expect(bodies.includes(secretValue)).toBe(false);
    } finally {
      await hook.close();
    }
  });
});
