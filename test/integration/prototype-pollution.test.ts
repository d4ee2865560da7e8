import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { withAccess } from '../../src/access/access.js';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import type { DestinationConfig } from '../../src/generated/destination.js';
import type { Credport } from '../../src/open-credport.js';
import type { Collection } from '../../src/store/collection.js';
import { type ApiUnderTest, startApi } from '../helpers/api-server.js';

// Issue 21, item 1, attacked from outside: a workspace editor's token POSTs a destination whose
// mapping writes through "/__proto__/baseUrl"; when a sync mapped a record with it, every object in
// the server process inherited baseUrl, and every credential created afterwards without one, in
// every workspace, sent its token to the attacker's URL.

const ATTACKER = 'https://attacker.example';
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

let front: FrontEmulator;
let api: ApiUnderTest;
let credport: Credport;
let url: string;
let editor: string;

beforeAll(async () => (front = await new FrontEmulator({ records: 3 }).start()));
afterAll(() => front.stop());
beforeEach(async () => {
  api = await startApi();
  ({ credport, url } = api);
  editor = (await withAccess({ workspace: 'acme', role: 'admin' }, () => credport.tokens.create({ name: 'acme editor', role: 'editor' })))
    .token!;
  // The emulator is on loopback: the workspace's token may point a credential there because the operator allows it.
  credport.outbound.allow(`front=${front.url}`);
});
afterEach(async () => {
  // A failing run must not leave the rest of the file (or the next one) polluted.
  for (const key of Object.getOwnPropertyNames(Object.prototype))
    if (!prototypeKeys.includes(key)) delete (Object.prototype as Record<string, unknown>)[key];
  await api.close();
});

async function call(method: string, path: string, options: { body?: unknown; raw?: string; token?: string } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? editor}` };
  if (options.body !== undefined || options.raw !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    body: options.raw ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** What a hostile sync would have changed: keys on Object.prototype, and what a fresh object inherits. */
function expectPrototypeClean(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
  expect(({} as { baseUrl?: unknown }).baseUrl).toBeUndefined();
}

async function acmeFrontCredential(): Promise<string> {
  const created = await call('POST', '/api/v1/credentials', {
    body: { connector: 'front', baseUrl: front.url, values: { name: 'Acme Front', apiKey: [...front.tokens][0]! } },
  });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

describe('a destination mapping that names a prototype slot, sent by a workspace editor', () => {
  it('is refused 400 with the field named, whatever its form, and nothing is saved', async () => {
    const credentialId = await acmeFrontCredential();
    const base = `"name":"Hostile","connector":"front","credentialId":"${credentialId}","operations":{"tags":"tags.create"}`;
    const hostile: [string, string][] = [
      [`${base},"mapping":{"tags":{"/__proto__/baseUrl":"/name"}}`, '/mapping/tags/~1__proto__~1baseUrl'],
      [`${base},"mapping":{"tags":{"/constructor/prototype/baseUrl":"/name"}}`, '/mapping/tags/~1constructor~1prototype~1baseUrl'],
      [`${base},"mapping":{"tags":{"/prototype/baseUrl":"/name"}}`, '/mapping/tags/~1prototype~1baseUrl'],
      [`${base},"mapping":{"tags":{"/a/__proto__":"/name"}}`, '/mapping/tags/~1a~1__proto__'],
      [`${base},"mapping":{"tags":{"/highlight/constructor":"/name"}}`, '/mapping/tags/~1highlight~1constructor'],
      [`${base},"mapping":{"tags":{"/name":"/__proto__"}}`, '/mapping/tags/~1name'],
      [`${base},"mapping":{"tags":{"/name":"/__proto__/baseUrl"}}`, '/mapping/tags/~1name'],
      [`${base},"mapping":{"tags":{"/name":"/constructor/prototype"}}`, '/mapping/tags/~1name'],
      [`${base},"mapping":{"tags":{"/name":"/x/prototype"}}`, '/mapping/tags/~1name'],
      [`${base},"mapping":{"__proto__":{"/name":"/name"}}`, '/mapping/__proto__'],
      [`${base},"mapping":{"constructor":{"/name":"/name"}}`, '/mapping/constructor'],
      [
        `"name":"Hostile","connector":"front","credentialId":"${credentialId}","operations":{"tags":"tags.create","__proto__":"tags.create"}`,
        '/operations/__proto__',
      ],
      [
        `"name":"Hostile","connector":"front","credentialId":"${credentialId}","operations":{"constructor":"tags.create"}`,
        '/operations/constructor',
      ],
      [`${base},"params":{"__proto__":"x"}`, '/params/__proto__'],
      [`${base},"params":{"prototype":"x"}`, '/params/prototype'],
    ];
    for (const [body, field] of hostile) {
      const answer = await call('POST', '/api/v1/destinations', { raw: `{${body}}` });
      expect([body, answer.status]).toEqual([body, 400]);
      expect([body, answer.body.field]).toEqual([body, field]);
      expect(answer.body.code).toBe('invalid_input');
      // Said by the schema (its x-pattern-message, after the refused key's pointer), before any service code runs.
      expect(answer.body.detail).toMatch(/__proto__, constructor or prototype/);
      expect(answer.body.detail.startsWith(`${field} `)).toBe(true);
    }
    expect((await call('GET', '/api/v1/destinations')).body).toEqual([]);
    expectPrototypeClean();
  });

  it('refuses a source whose stream is named like a prototype slot', async () => {
    const credentialId = await acmeFrontCredential();
    for (const stream of ['__proto__', 'constructor', 'prototype']) {
      const answer = await call('POST', '/api/v1/sources', {
        body: { name: 'S', connector: 'front', credentialId, streams: ['tags', stream] },
      });
      expect([stream, answer.status, answer.body.field]).toEqual([stream, 400, '/streams/1']);
      expect(answer.body.detail).toBe(
        "/streams/1 must not be __proto__, constructor or prototype (they name members of every object's prototype)",
      );
    }
    expect((await call('GET', '/api/v1/sources')).body).toEqual([]);
  });

  it('still accepts an ordinary mapping, and pointers that only spell a slot inside a longer key', async () => {
    const credentialId = await acmeFrontCredential();
    const saved = await call('POST', '/api/v1/destinations', {
      body: {
        name: 'Fine',
        connector: 'front',
        credentialId,
        operations: { tags: 'tags.create' },
        mapping: { tags: { '/name': '/name', '/a~1__proto__': '/constructor_id' } },
      },
    });
    expect(saved.status).toBe(201);
    expect(saved.body.mapping).toEqual({ tags: { '/name': '/name', '/a~1__proto__': '/constructor_id' } });
  });
});

describe('a destination with a hostile mapping saved by an older release', () => {
  it("is refused before its sync runs, and nothing reaches Object.prototype or another workspace's credential", async () => {
    const credentialId = await acmeFrontCredential();
    const source = await call('POST', '/api/v1/sources', { body: { name: 'Tags', connector: 'front', credentialId, streams: ['tags'] } });
    expect(source.status).toBe(201);
    // Written straight into the store, as a release that did not check mappings saved it.
    const destinations = (credport.configs as unknown as { deps: { destinations: Collection<DestinationConfig> } }).deps.destinations;
    const mappings: Record<string, string>[] = [
      { '/__proto__/baseUrl': '/name' },
      { '/constructor/prototype/baseUrl': '/name' },
      { '/name': '/name', '/x': '/__proto__/baseUrl' },
    ];
    for (const [i, mapping] of mappings.entries()) {
      const id = `dst_hostile${i}0000000000000`;
      await destinations.put(id, {
        id,
        workspace: 'acme',
        name: 'Old',
        connector: 'front',
        credentialId,
        operations: { tags: 'tags.create' },
        mapping: { tags: mapping },
        createdAt: new Date().toISOString(),
      });
      const started = await call('POST', '/api/v1/syncs', { body: { source: source.body.id, destination: id } });
      expect(started.status).toBe(400);
      expect(started.body.field).toMatch(/^\/mapping\/tags\//);
      expect(started.body.detail).toContain(`destination ${id} cannot be used`);
      // The library (and so the CLI) refuses it the same way.
      await expect(withAccess({ workspace: 'acme', role: 'editor' }, () => credport.syncs.run(source.body.id, id))).rejects.toMatchObject({
        code: 'invalid_input',
        field: expect.stringMatching(/^\/mapping\/tags\//),
      });
    }
    expectPrototypeClean();
    expect(front.writes.received).toEqual([]);

    // Another workspace's credential, saved without a base URL, keeps the connector's own.
    const other = await withAccess({ workspace: 'other', role: 'admin' }, () =>
      credport.credentials.create({
        connector: 'front',
        values: { name: 'Other', apiKey: 'eyJabc.defghijklmnopqrstuvwxyz0123.0123456789abcdef' },
        verify: false,
      }),
    );
    expect(other.baseUrl).toBeUndefined();
    expect(Object.hasOwn(other, 'baseUrl')).toBe(false);
    const client = await withAccess({ workspace: 'other', role: 'admin' }, () => credport.credentials.client(other.id));
    expect(client.baseUrl).not.toContain('attacker');
    expect(String(client.baseUrl)).not.toBe(ATTACKER);
  });
});
