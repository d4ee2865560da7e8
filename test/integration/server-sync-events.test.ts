import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FrontEmulator, type FrontEmulatorOptions } from '../../src/emulator/front-emulator.js';
import { API_TOKEN, type ApiUnderTest, startApi } from '../helpers/api-server.js';
import type { JsonBody } from '../helpers/json-body.js';
import { checkEvents, checkValue, type EventContract, servedContract } from '../helpers/sync-event-contract.js';

/**
 * GET /api/v1/syncs/{id}/events as a host's client reads it: every event of a real sync (against the
 * Front emulator, with its 429s, 5xx and foreign next links) checked by ajv against the schemas of the
 * OpenAPI document the server serves, the SSE framing, and a resume with Last-Event-ID.
 */
let front: FrontEmulator;
/** Another Front on another origin: the emulator's next links point at it, and it must see nothing. */
let trap: FrontEmulator;
let api: ApiUnderTest;
let url: string;
let doc: JsonBody;
let contract: EventContract;

beforeAll(async () => (trap = await new FrontEmulator({ recordRequests: true }).start()));
afterAll(() => trap.stop());
beforeEach(async () => {
  front = await new FrontEmulator({ records: 250 }).start();
  // Retries on, so a 502 is met with a `retry` event rather than failing the sync.
  api = await startApi({ open: { env: { CREDPORT_HTTP_RETRIES: '2', CREDPORT_HTTP_TIMEOUT_MS: '2000' } } });
  url = api.url;
  doc = await (await get('/api/v1/openapi.json')).json();
  contract = servedContract(doc);
});
afterEach(async () => {
  await api.close();
  await front.stop();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}`, ...headers } });

async function post(path: string, body: unknown): Promise<JsonBody> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect([201, 202]).toContain(response.status);
  return response.json();
}

/** A verified Front credential, a source of it per list of streams, and a JSONL destination. */
async function setUp(...streamLists: string[][]): Promise<{ sources: string[]; destination: string }> {
  const credential = await post('/api/v1/credentials', {
    connector: 'front',
    baseUrl: front.url,
    values: { name: 'Support', apiKey: [...front.tokens][0]! },
  });
  const sources: string[] = [];
  for (const streams of streamLists)
    sources.push((await post('/api/v1/sources', { name: 'Src', connector: 'front', credentialId: credential.id, streams })).id);
  const destination = (await post('/api/v1/destinations', { name: 'Files', connector: 'jsonl' })).id;
  return { sources, destination };
}

const startSync = async (source: string, destination: string): Promise<string> => (await post('/api/v1/syncs', { source, destination })).id;

/** From now on the emulator answers as a busy Front does: burst 429s, 502s, next links on another origin. */
function misbehave(): void {
  Object.assign((front as unknown as { options: FrontEmulatorOptions }).options, { burstEvery: 4, failEvery: 7, nextOrigin: trap.url });
}

interface Message {
  id: string;
  event: string;
  data: unknown;
}

/** Reads a sync's stream to its end, message by message, as an SSE client parses it. */
async function messages(id: string, headers: Record<string, string> = {}): Promise<Message[]> {
  const response = await get(`/api/v1/syncs/${id}/events`, headers);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  // The stream writes its own head (the reply is hijacked): the security headers must still be on it.
  expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => {
      const fields = new Map(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
      return { id: fields.get('id')!, event: fields.get('event')!, data: JSON.parse(fields.get('data')!) };
    });
}

describe('the sync event stream', () => {
  it('streams only events its declared schemas admit, every kind of them, framed as SSE with increasing ids', async () => {
    const { sources, destination } = await setUp(['contacts', 'tags'], ['contacts']);
    misbehave();
    const id = await startSync(sources[0]!, destination);
    const finished = await messages(id);
    // A sync the provider refuses (the token revoked): its `failed` event too.
    for (const token of front.tokens) front.tokens.delete(token);
    const failed = await messages(await startSync(sources[1]!, destination));

    const all = [...finished, ...failed];
    const seen = checkEvents(
      contract,
      all.map((m) => m.data),
    );
    // Every kind the document declares was met: a kind no real sync reaches would go unchecked.
    expect([...seen].sort()).toEqual([...contract.kinds.keys()].sort());
    for (const stream of [finished, failed]) {
      expect(stream.map((m) => m.event)).toEqual(stream.map((m) => (m.data as { event: string }).event));
      expect(stream.map((m) => Number(m.id))).toEqual(stream.map((_, i) => i + 1));
    }
    expect(finished.at(-1)!.event).toBe('finished');
    expect(failed.at(-1)!.event).toBe('failed');
    expect(trap.seen).toEqual([]);

    // The job's state carries the same summary as its `finished` event, and the document's SyncJob admits it.
    const state = await (await get(`/api/v1/syncs/${id}`)).json();
    checkValue(contract.schema('SyncJob'), state);
    expect(state.summary).toEqual((finished.at(-1)!.data as { summary: unknown }).summary);
  });

  it('resumes after Last-Event-ID: only the events after that id, the same ones', async () => {
    const { sources, destination } = await setUp(['contacts']);
    const id = await startSync(sources[0]!, destination);
    const all = await messages(id);
    expect(all.length).toBeGreaterThan(3);
    const after = await messages(id, { 'last-event-id': all[2]!.id });
    expect(after).toEqual(all.slice(3));
    // Not a number: from the start, as documented.
    expect(await messages(id, { 'last-event-id': 'latest' })).toEqual(all);
  });

  it('is declared as text/event-stream of SyncEvent, with Last-Event-ID, and the union names every kind in schemas/', () => {
    const route = doc.paths['/api/v1/syncs/{id}/events'].get;
    expect(Object.keys(route.responses['200'].content)).toEqual(['text/event-stream']);
    expect(route.responses['200'].content['text/event-stream'].schema.$ref).toBe('#/components/schemas/SyncEvent');
    expect(route.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'last-event-id', required: false }));
    const files = readdirSync(new URL('../../schemas/', import.meta.url)).filter((f) => /^sync-event-.+\.schema\.json$/.test(f));
    const union = JSON.parse(readFileSync(new URL('../../schemas/sync-event.schema.json', import.meta.url), 'utf8'));
    expect(union.oneOf.map((r: { $ref: string }) => r.$ref.split('/').at(-1)).sort()).toEqual(files.sort());
    expect(contract.kinds.size).toBe(files.length);
  });
});
