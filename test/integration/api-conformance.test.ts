import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { type CredportClient, CredportProblem, createCredportClient } from '../../src/client/index.js';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { OPERATIONS } from '../../src/generated/credport-api.js';
import { ID_SHAPES } from '../../src/ids.js';
import { MAX_ENDPOINTS } from '../../src/webhooks/webhook-endpoints.js';
import { API_TOKEN, type ApiUnderTest, type ListeningApi, listenApi, startApi } from '../helpers/api-server.js';
import { FakeFront } from '../helpers/fake-front.js';
import type { JsonBody } from '../helpers/json-body.js';
import { OpenApiConformance } from '../helpers/openapi-conformance.js';
import { rawRequest } from '../helpers/raw-http.js';
import { checkEvents, servedContract } from '../helpers/sync-event-contract.js';

// The conformance test of issue 24: the OpenAPI document the server serves is the contract. Every
// operation is driven (through credport/client, whose methods are generated from the document, or
// with the generated operation table for what a typed client cannot send: broken JSON, another
// media type, an oversized body, a wrong Host), on the happy path and in each error family a test
// can provoke, and every answer is judged by the document (openapi-conformance.ts): its status,
// media type, body and headers must be declared. The last test fails when an operation, or a
// declared status not listed in NOT_PROVOKED with its reason, was never seen.

type OperationId = keyof typeof OPERATIONS;

/** Declared statuses no test here provokes, each with the reason (and where it is tested instead). */
const NOT_PROVOKED: Partial<Record<OperationId, Record<number, string>>> = {
  updateCredential: { 409: 'write_conflict: a write lost to other writers CHANGE_ATTEMPTS times (store-no-lost-updates.test.ts races it)' },
  testCredential: { 409: 'write_conflict, as for updateCredential' },
  rotateCredential: {
    409: 'write_conflict, as for updateCredential',
    410: "a connect session revoked while its bearer's rotate waited on the provider (connect-revoke-in-flight.test.ts)",
  },
  createCredential: { 410: "a connect session revoked while its bearer's add waited on the provider (connect-revoke-in-flight.test.ts)" },
};

let front: FrontEmulator;
/** Pages answered slowly, so a sync is still running while the test starts another and cancels it. */
let slowFront: FrontEmulator;
/** A provider that never answers (504). */
let hanging: FakeFront;
/** Where a provider was and is no more (502). */
let downUrl: string;
let api: ApiUnderTest;
/** The same credport behind a verification limit of one per route (429). */
let limited: ListeningApi;
let conformance: OpenApiConformance;
let contract: ReturnType<typeof servedContract>;
const checks: Promise<void>[] = [];
const failures: string[] = [];
let admin: CredportClient;
let viewer: CredportClient;

/** fetch, with every answer also judged by the document (its copy read in the background, so a stream is not held up). */
const judgedFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input));
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  const copy = response.clone();
  checks.push(
    copy.text().then(
      (text) => void judge({ method, url: `${url.pathname}${url.search}`, status: response.status, headers: response.headers, text }),
      (error: unknown) => void failures.push(`${method} ${url.pathname}: the answer could not be read: ${String(error)}`),
    ),
  );
  return response;
};

function judge(answer: Parameters<OpenApiConformance['check']>[0]): void {
  try {
    conformance.check(answer);
  } catch (error) {
    failures.push((error as Error).message);
  }
}

const clientFor = (token: string, baseUrl = api.url) => createCredportClient({ baseUrl, token, fetch: judgedFetch });

/** The status a call was answered with (2xx as 'ok'). */
async function statusOf(call: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (error instanceof CredportProblem) return error.status;
    throw error;
  }
}

/** A well-formed id of the kind a path names, which is nobody's. */
function exampleId(path: string): string {
  if (path.includes('/connectors/')) return 'no-such-connector';
  if (path.includes('/connect/sessions/')) return ID_SHAPES['connect session'].example;
  if (path.includes('/webhooks/')) return ID_SHAPES['webhook endpoint'].example;
  if (path.includes('/credentials/')) return ID_SHAPES.credential.example;
  if (path.includes('/sources/')) return ID_SHAPES.source.example;
  if (path.includes('/destinations/')) return ID_SHAPES.destination.example;
  if (path.includes('/syncs/')) return ID_SHAPES.sync.example;
  return ID_SHAPES.token.example;
}

/** A well-formed delivery id (a webhook-id) that is nobody's. */
const NO_DELIVERY = 'msg_17650000000000000deadbeef';
const pathOf = (id: OperationId, pathId?: string) =>
  OPERATIONS[id].path.replace('{id}', encodeURIComponent(pathId ?? exampleId(OPERATIONS[id].path))).replace('{deliveryId}', NO_DELIVERY);
const carriesBody = (id: OperationId) => OPERATIONS[id].method !== 'GET';
const hasPathId = (id: OperationId) => OPERATIONS[id].path.includes('{id}');
const ALL = Object.keys(OPERATIONS) as OperationId[];

/** One request from the operation table, as any HTTP client may send it (a body as raw text). */
async function send(
  id: OperationId,
  options: { token?: string; pathId?: string; query?: string; body?: string; contentType?: string; baseUrl?: string } = {},
): Promise<number> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? API_TOKEN}` };
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const url = `${options.baseUrl ?? api.url}${pathOf(id, options.pathId)}${options.query ? `?${options.query}` : ''}`;
  const response = await judgedFetch(url, {
    method: OPERATIONS[id].method,
    headers,
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  await response.body?.cancel();
  return response.status;
}

/** Each operation with the status it answered, for one expectation per family. */
async function eachOperation(ids: OperationId[], request: (id: OperationId) => Promise<number | 'ok'>) {
  const answered: Record<string, number | 'ok'> = {};
  for (const id of ids) answered[id] = await request(id);
  return answered;
}
const every = (ids: OperationId[], status: number) => Object.fromEntries(ids.map((id) => [id, status]));

beforeAll(async () => {
  front = await new FrontEmulator({ records: 120 }).start();
  slowFront = await new FrontEmulator({ records: 5000, latencyMs: 200 }).start();
  hanging = await FakeFront.start();
  hanging.mode = 'hang';
  const gone = await FakeFront.start();
  downUrl = gone.url;
  await gone.close();
  api = await startApi({
    open: { env: { CREDPORT_HTTP_RETRIES: '0', CREDPORT_HTTP_TIMEOUT_MS: '500' } },
    server: { verifyLimit: { max: 1000, timeWindow: 60_000 } },
  });
  limited = await listenApi(api.credport, { verifyLimit: { max: 1, timeWindow: 60_000 } });
  const document: JsonBody = await (
    await fetch(`${api.url}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${API_TOKEN}` } })
  ).json();
  conformance = new OpenApiConformance(document);
  contract = servedContract(document);
  admin = clientFor(API_TOKEN);
});
afterAll(async () => {
  await limited?.stop();
  await api?.close().catch(() => undefined); // the 503 test closed its store already
  await Promise.all([front?.stop(), slowFront?.stop(), hanging?.close()]);
});
afterEach(async () => {
  await Promise.all(checks.splice(0));
  expect(failures.splice(0)).toEqual([]);
});

const frontToken = () => [...front.tokens][0]!;
/** A pick session of Front that lists the workspace's credentials, exchanged: its bearer's answer. */
const pickSession = async () => {
  const session = await admin.createConnectSession({
    body: { endUser: { id: 'user-7' }, allowedOrigins: ['https://app.example.com'], connectors: ['front'], showWorkspaceCredentials: true },
  });
  return admin.exchangeConnectToken({ body: { token: session.token } });
};
const bearerOf = (exchanged: { bearer: string }) => exchanged.bearer;
const created: {
  credential?: string;
  source?: string;
  destination?: string;
  sync?: string;
  token?: string;
  slowCredential?: string;
  session?: string;
  webhook?: string;
} = {};

describe('the API as its OpenAPI document says', () => {
  it('states one table of operations: the generated client has exactly the served operations', () => {
    expect(conformance.operationIds().sort()).toEqual([...ALL].sort());
  });

  it('the happy path of every operation', async () => {
    expect((await admin.listConnectors()).length).toBeGreaterThan(0);
    await admin.getConnectorForm({ path: { id: 'front' } });
    const tile = await admin.createCredential({
      body: { connector: 'front', baseUrl: front.url, values: { name: 'Support', apiKey: frontToken() } },
    });
    created.credential = tile.id;
    await admin.createCredential({
      body: { connector: 'frontline', values: { name: 'Second', apiKey: 'frontline-key-1' }, verify: false },
    });
    let link: string | null = null;
    await admin.listCredentials({ query: { limit: 1 } }, { onResponse: (response) => (link = response.headers.get('link')) });
    expect(link).toContain('rel="next"'); // a page with a Link, which the document must declare
    await admin.getCredential({ path: { id: tile.id } });
    await admin.updateCredential({ path: { id: tile.id }, body: { description: 'the support team' } });
    await admin.testCredential({ path: { id: tile.id } });
    await admin.rotateCredential({ path: { id: tile.id }, body: { secrets: { apiKey: frontToken() } } });

    const source = await admin.createSource({ body: { name: 'Front tags', connector: 'front', credentialId: tile.id, streams: ['tags'] } });
    created.source = source.id;
    await admin.listSources();
    await admin.getSource({ path: { id: source.id } });
    const destination = await admin.createDestination({ body: { name: 'Files', connector: 'jsonl' } });
    created.destination = destination.id;
    await admin.listDestinations();
    await admin.getDestination({ path: { id: destination.id } });

    const sync = await admin.startSync({ body: { source: source.id, destination: destination.id } });
    created.sync = sync.id;
    const events: unknown[] = [];
    for await (const message of admin.getSyncEvents({ path: { id: sync.id } })) events.push(message.data);
    expect([...checkEvents(contract, events)]).toEqual(expect.arrayContaining(['started', 'page', 'finished']));
    expect((await admin.getSync({ path: { id: sync.id } })).status).toBe('finished');
    await admin.listSyncs({ query: { state: 'finished' } });
    await admin.listAuditEvents({ query: { since: '24h' } });

    const token = await admin.createToken({ body: { name: 'Viewer', role: 'viewer' } });
    if (token.token === undefined) throw new Error('POST /tokens answered no token');
    viewer = clientFor(token.token);
    created.token = token.id;
    await admin.listTokens();

    const session = await admin.createConnectSession({
      body: { endUser: { id: 'user-42' }, allowedOrigins: ['https://app.example.com'], connectors: ['front'] },
    });
    created.session = session.id;
    const { bearer } = await admin.exchangeConnectToken({ body: { token: session.token } });
    expect((await admin.getConnectSession({ path: { id: session.id } })).state).toBe('opened');
    // The session's bearer: its connectors, a form, and the tile its end user picked (a workspace one: the session shows them).
    const endUser = clientFor(bearer);
    expect((await endUser.listConnectors()).map((c) => c.id)).toEqual(['front']);
    expect((await endUser.getConnectorForm({ path: { id: 'front' } })).baseUrlField).toBe(false);
    const picked = await clientFor(bearerOf(await pickSession())).selectConnectCredential({ body: { credentialId: tile.id } });
    expect(picked.id).toBe(tile.id);
    await admin.revokeConnectSession({ path: { id: session.id } });
    // 410: a revoked session's token; 401: not a token (20 a minute per token, then 429).
    expect(await statusOf(admin.exchangeConnectToken({ body: { token: session.token } }))).toBe(410);
    const bogus = { body: { token: 'not-a-connect-token' } };
    const refusals = [];
    for (let i = 0; i < 21; i++) refusals.push(await statusOf(admin.exchangeConnectToken(bogus)));
    expect([refusals[0], refusals[20]]).toEqual([401, 429]);

    // A webhook endpoint (the operator's token may name loopback), its test delivery to a receiver that is gone
    // (an attempt that failed is still a 200), a page of the listing, a change, a new secret.
    const hook = await admin.createWebhook({ body: { url: `${downUrl}/hook`, events: ['credential.invalidated'] } });
    created.webhook = hook.id;
    await admin.createWebhook({ body: { url: `${downUrl}/other`, events: ['sync.failed'] } });
    // 409: a workspace's endpoints are bounded (MAX_ENDPOINTS); the ones made to reach it are deleted again.
    const filling: string[] = [];
    for (let i = 2; i < MAX_ENDPOINTS; i++)
      filling.push((await admin.createWebhook({ body: { url: `${downUrl}/fill-${i}`, events: ['sync.failed'] } })).id);
    expect(await statusOf(admin.createWebhook({ body: { url: `${downUrl}/one-more`, events: ['sync.failed'] } }))).toBe(409);
    for (const id of filling) await admin.deleteWebhook({ path: { id } });
    let webhookLink: string | null = null;
    await admin.listWebhooks({ query: { limit: 1 } }, { onResponse: (response) => (webhookLink = response.headers.get('link')) });
    expect(webhookLink).toContain('rel="next"');
    await admin.getWebhook({ path: { id: hook.id } });
    await admin.updateWebhook({ path: { id: hook.id }, body: { description: 'alerts' } });
    expect((await admin.testWebhook({ path: { id: hook.id } })).delivered).toBe(false);
    expect((await admin.rotateWebhookSecret({ path: { id: hook.id } })).secret).not.toBe(hook.secret);
    // An event to the receiver that is gone: every retry of the schedule fails (its waits passed by moving the clock
    // on), so the delivery is failed, listed with its attempts, and sent again on request.
    const event = await api.credport.outbox.publish('default', 'credential.invalidated', { workspace: 'default' });
    let clock = Date.now();
    const moved = jest.spyOn(Date, 'now').mockImplementation(() => clock);
    try {
      for (let retry = 0; retry < 12; retry++) {
        await api.credport.deliverWebhooksNow();
        clock += 10 * 60 * 60 * 1000;
      }
    } finally {
      moved.mockRestore();
    }
    const [failed] = await admin.listWebhookDeliveries({ path: { id: hook.id }, query: { status: 'failed' } });
    expect(failed).toMatchObject({ id: event, status: 'failed', type: 'credential.invalidated' });
    expect(failed!.attempts).toHaveLength(12);
    expect(await admin.redeliverWebhook({ path: { id: hook.id, deliveryId: event } })).toMatchObject({ id: event, status: 'pending' });
  });

  it('400: a malformed path id, query, JSON or body, on every operation that takes one', async () => {
    const withId = ALL.filter(hasPathId);
    expect(await eachOperation(withId, (id) => send(id, { pathId: 'Not An Id' }))).toEqual(every(withId, 400));
    const lists = ALL.filter((id) => id.startsWith('list') && id !== 'listConnectors' && id !== 'listTokens');
    expect(await eachOperation(lists, (id) => send(id, { query: 'limit=0' }))).toEqual(every(lists, 400));
    const bodied = ALL.filter(carriesBody);
    expect(await eachOperation(bodied, (id) => send(id, { body: '{"broken' }))).toEqual(every(bodied, 400));
    const schemaBodies: OperationId[] = [
      'createCredential',
      'updateCredential',
      'rotateCredential',
      'createSource',
      'createDestination',
      'startSync',
      'createToken',
      'createConnectSession',
      'exchangeConnectToken',
      'selectConnectCredential',
      'createWebhook',
      'updateWebhook',
    ];
    const ids: Partial<Record<OperationId, string>> = {
      updateCredential: created.credential!,
      rotateCredential: created.credential!,
      updateWebhook: created.webhook!,
    };
    expect(await eachOperation(schemaBodies, (id) => send(id, { pathId: ids[id], body: '{"unknownField":1}' }))).toEqual(
      every(schemaBodies, 400),
    );
  });

  it('401 on every operation without a valid token; 403 on every operation for a Host it does not answer', async () => {
    // The exchange takes no Authorization: the connect session token in its body is the credential.
    const tokenIn = (id: OperationId) => (id === 'exchangeConnectToken' ? { body: '{"token":"ccs_not.a-token"}' } : {});
    expect(await eachOperation(ALL, (id) => send(id, { token: 'not-a-token-0123456789abcdef', ...tokenIn(id) }))).toEqual(every(ALL, 401));
    const wrongHost = await eachOperation(ALL, async (id) => {
      const path = pathOf(id);
      const answer = await rawRequest(api.url, OPERATIONS[id].method, path, {
        headers: { host: 'rebound.example', authorization: `Bearer ${API_TOKEN}` },
      });
      judge({ method: OPERATIONS[id].method, url: path, status: answer.status, headers: answer.headers, text: answer.text });
      return answer.status;
    });
    expect(wrongHost).toEqual(every(ALL, 403));
  });

  it("403: a viewer's token on every operation that needs an editor or an admin", async () => {
    const cred = created.credential!;
    const answered = {
      createCredential: await statusOf(
        viewer.createCredential({ body: { connector: 'frontline', values: { name: 'No', apiKey: 'frontline-key-1' }, verify: false } }),
      ),
      updateCredential: await statusOf(viewer.updateCredential({ path: { id: cred }, body: { name: 'No' } })),
      deleteCredential: await statusOf(viewer.deleteCredential({ path: { id: cred } })),
      testCredential: await statusOf(viewer.testCredential({ path: { id: cred } })),
      rotateCredential: await statusOf(viewer.rotateCredential({ path: { id: cred }, body: { secrets: { apiKey: frontToken() } } })),
      createSource: await statusOf(
        viewer.createSource({ body: { name: 'No', connector: 'front', credentialId: cred, streams: ['tags'] } }),
      ),
      deleteSource: await statusOf(viewer.deleteSource({ path: { id: created.source! } })),
      createDestination: await statusOf(viewer.createDestination({ body: { name: 'No', connector: 'jsonl' } })),
      deleteDestination: await statusOf(viewer.deleteDestination({ path: { id: created.destination! } })),
      startSync: await statusOf(viewer.startSync({ body: { source: created.source!, destination: created.destination! } })),
      cancelSync: await statusOf(viewer.cancelSync({ path: { id: created.sync! } })),
      retrySync: await statusOf(viewer.retrySync({ path: { id: created.sync! } })),
      createToken: await statusOf(viewer.createToken({ body: { name: 'No', role: 'viewer' } })),
      listTokens: await statusOf(viewer.listTokens()),
      deleteToken: await statusOf(viewer.deleteToken({ path: { id: created.token! } })),
      createConnectSession: await statusOf(
        viewer.createConnectSession({ body: { endUser: { id: 'u' }, allowedOrigins: ['https://app.example.com'] } }),
      ),
      getConnectSession: await statusOf(viewer.getConnectSession({ path: { id: created.session! } })),
      revokeConnectSession: await statusOf(viewer.revokeConnectSession({ path: { id: created.session! } })),
      // Not a pick session's bearer at all.
      selectConnectCredential: await statusOf(viewer.selectConnectCredential({ body: { credentialId: created.credential! } })),
      // Webhook endpoints are an admin's, reading them included.
      createWebhook: await statusOf(viewer.createWebhook({ body: { url: `${downUrl}/no`, events: ['sync.failed'] } })),
      listWebhooks: await statusOf(viewer.listWebhooks()),
      getWebhook: await statusOf(viewer.getWebhook({ path: { id: created.webhook! } })),
      updateWebhook: await statusOf(viewer.updateWebhook({ path: { id: created.webhook! }, body: { enabled: false } })),
      deleteWebhook: await statusOf(viewer.deleteWebhook({ path: { id: created.webhook! } })),
      rotateWebhookSecret: await statusOf(viewer.rotateWebhookSecret({ path: { id: created.webhook! } })),
      testWebhook: await statusOf(viewer.testWebhook({ path: { id: created.webhook! } })),
      listWebhookDeliveries: await statusOf(viewer.listWebhookDeliveries({ path: { id: created.webhook! } })),
      redeliverWebhook: await statusOf(viewer.redeliverWebhook({ path: { id: created.webhook!, deliveryId: NO_DELIVERY } })),
    };
    expect(answered).toEqual(Object.fromEntries(Object.keys(answered).map((id) => [id, 403])));
  });

  it('404: a well-formed id that is nobody’s, an unknown connector, a body naming what is not there', async () => {
    const withId = ALL.filter(hasPathId);
    const bodies: Partial<Record<OperationId, string>> = {
      updateCredential: '{"name":"Gone"}',
      rotateCredential: JSON.stringify({ secrets: { apiKey: 'anything' } }),
      updateWebhook: '{"enabled":true}',
    };
    expect(await eachOperation(withId, (id) => send(id, { ...(bodies[id] ? { body: bodies[id] } : {}) }))).toEqual(every(withId, 404));
    const missing = ID_SHAPES.credential.example;
    expect({
      createSource: await statusOf(
        admin.createSource({ body: { name: 'X', connector: 'front', credentialId: missing, streams: ['tags'] } }),
      ),
      createDestination: await statusOf(
        admin.createDestination({ body: { name: 'X', connector: 'front', credentialId: missing, operations: { tags: 'tags.create' } } }),
      ),
      startSync: await statusOf(admin.startSync({ body: { source: ID_SHAPES.source.example, destination: created.destination! } })),
      createConnectSession: await statusOf(
        admin.createConnectSession({
          body: { endUser: { id: 'u' }, allowedOrigins: ['https://app.example.com'], mode: 'reconnect', credentialId: missing },
        }),
      ),
      selectConnectCredential: await statusOf(
        clientFor(bearerOf(await pickSession())).selectConnectCredential({ body: { credentialId: missing } }),
      ),
    }).toEqual({ createSource: 404, createDestination: 404, startSync: 404, createConnectSession: 404, selectConnectCredential: 404 });
  });

  it('409: a credential in use, a finished sync retried, a busy destination; 202 for cancelling a sync and retrying it', async () => {
    expect(await statusOf(admin.deleteCredential({ path: { id: created.credential! } }))).toBe(409);
    expect(await statusOf(admin.retrySync({ path: { id: created.sync! } }))).toBe(409);

    const slow = await admin.createCredential({
      body: { connector: 'front', baseUrl: slowFront.url, values: { name: 'Slow', apiKey: [...slowFront.tokens][0]! } },
    });
    const source = await admin.createSource({ body: { name: 'Slow tags', connector: 'front', credentialId: slow.id, streams: ['tags'] } });
    const running = await admin.startSync({ body: { source: source.id, destination: created.destination! } });
    expect(await statusOf(admin.startSync({ body: { source: source.id, destination: created.destination! } }))).toBe(409);
    await admin.cancelSync({ path: { id: running.id } });
    for await (const _ of admin.getSyncEvents({ path: { id: running.id } })); // to its end: cancelled
    const again = await admin.retrySync({ path: { id: running.id } });
    await admin.cancelSync({ path: { id: again.id } });
    for await (const _ of admin.getSyncEvents({ path: { id: again.id } }));
  });

  it('422, 502, 504: the provider refuses, is gone, or does not answer, on every operation that asks it', async () => {
    const values = { name: 'Provider', apiKey: frontToken() };
    const at = (baseUrl: string) => admin.createCredential({ body: { connector: 'front', baseUrl, values, verify: false } });
    const [down, silent] = [await at(downUrl), await at(hanging.url)];
    const refused = await at(front.url);
    front.tokens.delete(frontToken());
    const rotate = (id: string) => admin.rotateCredential({ path: { id }, body: { secrets: { apiKey: values.apiKey } } });
    expect({
      create: await statusOf(admin.createCredential({ body: { connector: 'front', baseUrl: front.url, values } })),
      test: await statusOf(admin.testCredential({ path: { id: refused.id } })),
      rotate: await statusOf(rotate(refused.id)),
    }).toEqual({ create: 422, test: 422, rotate: 422 });
    expect({
      create: await statusOf(admin.createCredential({ body: { connector: 'front', baseUrl: downUrl, values } })),
      test: await statusOf(admin.testCredential({ path: { id: down.id } })),
      rotate: await statusOf(rotate(down.id)),
    }).toEqual({ create: 502, test: 502, rotate: 502 });
    expect({
      create: await statusOf(admin.createCredential({ body: { connector: 'front', baseUrl: hanging.url, values } })),
      test: await statusOf(admin.testCredential({ path: { id: silent.id } })),
      rotate: await statusOf(rotate(silent.id)),
    }).toEqual({ create: 504, test: 504, rotate: 504 });
  });

  it('429: past the verification limit, on every verifying operation', async () => {
    const client = clientFor(API_TOKEN, limited.url);
    const cred = created.credential!;
    const twice = async (call: () => Promise<unknown>) => [await statusOf(call()), await statusOf(call())][1];
    expect({
      create: await twice(() =>
        client.createCredential({ body: { connector: 'frontline', values: { name: 'Many', apiKey: 'frontline-key-1' }, verify: false } }),
      ),
      test: await twice(() => client.testCredential({ path: { id: cred } })),
      rotate: await twice(() => client.rotateCredential({ path: { id: cred }, body: { secrets: { apiKey: 'anything' }, verify: false } })),
    }).toEqual({ create: 429, test: 429, rotate: 429 });
  });

  it('413 and 415 on every operation a body can be sent to', async () => {
    const bodied = ALL.filter(carriesBody);
    const large = JSON.stringify({ name: 'x'.repeat(70 * 1024) });
    expect(await eachOperation(bodied, (id) => send(id, { body: large }))).toEqual(every(bodied, 413));
    expect(await eachOperation(bodied, (id) => send(id, { body: 'name=x', contentType: 'application/x-www-form-urlencoded' }))).toEqual(
      every(bodied, 415),
    );
  });

  it('deletes what it made', async () => {
    await admin.deleteWebhook({ path: { id: created.webhook! } });
    await admin.deleteToken({ path: { id: created.token! } });
    await admin.deleteSource({ path: { id: created.source! } });
    await admin.deleteDestination({ path: { id: created.destination! } });
    // The slow source still uses its credential; this one is free now.
    await admin.deleteCredential({ path: { id: created.credential! } });
  });

  it('503 on every operation when the store cannot be used (a workspace token is looked up in it)', async () => {
    const { token } = await admin.createToken({ body: { name: 'Late', role: 'admin' } });
    await api.credport.close();
    // The exchange reads its session from the store: a well-formed token meets the same 503.
    const exchangeBody = JSON.stringify({ token: `ccs_${ID_SHAPES['connect session'].example.slice(4)}.${'a'.repeat(43)}` });
    const bodyOf = (id: OperationId) => (id === 'exchangeConnectToken' ? { body: exchangeBody } : {});
    expect(await eachOperation(ALL, (id) => send(id, { token: token!, ...bodyOf(id) }))).toEqual(every(ALL, 503));
  });

  it('every operation was driven, and every declared status not in NOT_PROVOKED was seen', () => {
    const missed: Record<string, number[]> = {};
    for (const id of ALL) {
      const seen = conformance.exercised.get(id) ?? new Set<number>();
      const excused = NOT_PROVOKED[id] ?? {};
      const never = conformance.declared(id).filter((status) => !seen.has(status) && !(status in excused));
      if (never.length > 0) missed[id] = never;
      for (const status of Object.keys(excused).map(Number))
        expect([id, conformance.declared(id)]).toEqual([id, expect.arrayContaining([status])]);
    }
    expect(missed).toEqual({});
  });
});
