import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type CredportClient, CredportProblem, createCredportClient, nextCursor, type SyncEvent } from '../../src/client/index.js';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { API_TOKEN, type ApiUnderTest, startApi } from '../helpers/api-server.js';

// credport/client as a host's back end uses it: every call typed from the served document, with
// no cast in this file's client code, against the API on loopback and the Front emulator.

let front: FrontEmulator;
let api: ApiUnderTest;
let client: CredportClient;

beforeAll(async () => {
  front = await new FrontEmulator({ records: 120 }).start();
  api = await startApi();
  client = createCredportClient({ baseUrl: api.url, token: API_TOKEN });
});
afterAll(async () => {
  await api.close();
  await front.stop();
});

/** The problem a call was refused with; fails the test when it was not refused with one. */
async function refusal(call: Promise<unknown>): Promise<CredportProblem> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof CredportProblem)) throw new Error(`expected a CredportProblem, got ${String(error)}`);
  return error;
}

describe('credport/client', () => {
  it('drives the whole flow: connectors, form, a refused and an accepted credential, tiles, a source, a destination, a sync to its end', async () => {
    const connectors = await client.listConnectors();
    expect(connectors.map((connector) => connector.id)).toEqual(expect.arrayContaining(['front', 'frontegg', 'frontline']));

    const { form } = await client.getConnectorForm({ path: { id: 'front' } });
    // Serialised with ConnectorForm, whose JSON Schema names a few keywords: every other one is kept as it is.
    expect(form).toEqual(api.credport.registry.form('front'));
    expect((await client.getConnectorForm({ path: { id: 'frontegg' } })).form).toEqual(api.credport.registry.form('frontegg'));
    expect(form.schema.properties?.apiKey?.writeOnly).toBe(true);
    expect(form.schema.required).toEqual(['name', 'apiKey']);
    expect(form.uiSchema['ui:order']).toEqual(['name', 'description', 'apiKey']);

    const refused = await refusal(
      client.createCredential({
        body: { connector: 'front', baseUrl: front.url, values: { name: 'Support', apiKey: 'not-a-front-token' } },
      }),
    );
    expect(refused).toMatchObject({ status: 422, code: 'provider_rejected', field: '/values/apiKey' });
    expect(refused.detail).not.toContain('not-a-front-token');
    expect(await client.listCredentials()).toEqual([]); // nothing saved

    const tile = await client.createCredential({
      body: {
        connector: 'front',
        baseUrl: front.url,
        values: { name: 'Support', description: 'the support team', apiKey: [...front.tokens][0]! },
      },
    });
    expect(tile).toMatchObject({ connector: 'front', name: 'Support', status: 'verified' });

    const tiles = await client.listCredentials({ query: { connector: 'front' } });
    expect(tiles.map((t) => t.id)).toEqual([tile.id]);
    expect(JSON.stringify(tiles)).not.toContain([...front.tokens][0]!);

    const source = await client.createSource({
      body: { name: 'Front tags', connector: 'front', credentialId: tile.id, streams: ['tags'] },
    });
    const destination = await client.createDestination({ body: { name: 'Files', connector: 'jsonl' } });
    const started = await client.startSync({ body: { source: source.id, destination: destination.id } });

    const events: SyncEvent[] = [];
    for await (const message of client.getSyncEvents({ path: { id: started.id } })) {
      expect(message.event).toBe(message.data.event);
      events.push(message.data);
    }
    const kinds = events.map((event) => event.event);
    expect(kinds[0]).toBe('started');
    expect(kinds.at(-1)).toBe('finished');
    const finished = events.at(-1);
    if (finished?.event !== 'finished') throw new Error('the stream did not end with finished');
    expect(finished.summary.streams.tags?.records).toBe(120);

    const sync = await client.getSync({ path: { id: started.id } });
    expect(sync.status).toBe('finished');
    expect(sync.summary).toEqual(finished.summary);
  });

  it('raises a problem answer as a CredportProblem with its code, status, field and detail', async () => {
    const gone = await client.createCredential({
      body: { connector: 'frontline', values: { name: 'Gone', apiKey: 'frontline-key-1' }, verify: false },
    });
    expect(await client.deleteCredential({ path: { id: gone.id } })).toEqual({ id: gone.id, deleted: true });
    const missing = await refusal(client.getCredential({ path: { id: gone.id } }));
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });
    expect(missing.message).toContain('404 not_found');

    const invalid = await refusal(client.createCredential({ body: { connector: 'front', values: { name: '', apiKey: 'x' } } }));
    expect(invalid).toMatchObject({ status: 400, code: 'invalid_input' });
    expect(invalid.field).toMatch(/^\/values\//);

    // An event stream's refusal is thrown where it is read, from the first step of the loop.
    const events = client.getSyncEvents({ path: { id: gone.id } })[Symbol.asyncIterator]();
    expect((await refusal(events.next())).status).toBeGreaterThanOrEqual(400);

    const anonymous = createCredportClient({ baseUrl: api.url, token: 'wrong-token-0123456789abcdef' });
    expect(await refusal(anonymous.listConnectors())).toMatchObject({ status: 401 });
  });

  it("follows a listing's pages: onResponse sees the Link header, nextCursor reads its cursor", async () => {
    const names = ['Page one', 'Page two', 'Page three'];
    for (const name of names)
      await client.createCredential({ body: { connector: 'frontline', values: { name, apiKey: 'frontline-key-1' }, verify: false } });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const query = cursor === undefined ? { connector: 'frontline', limit: 2 } : { connector: 'frontline', limit: 2, cursor };
      const tiles = await client.listCredentials({ query }, { onResponse: (response) => (cursor = nextCursor(response)) });
      seen.push(...tiles.map((tile) => tile.name));
      pages++;
    } while (cursor !== undefined);
    expect([pages, seen]).toEqual([2, names]);
  });
});
