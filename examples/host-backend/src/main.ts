// A host's back end driving `credport serve`: the "Add New Credential" flow and a sync, with no cast.
// Two ways, side by side: openapi-fetch typed by openapi-typescript from the served document
// (src/generated/, `npm run generate`), and credport's own typed client, `credport/client`.
//
//   CREDPORT_URL=http://127.0.0.1:8737 CREDPORT_API_TOKEN=... FRONT_URL=... FRONT_TOKEN=... npm start
import { type CredportClient, CredportProblem, createCredportClient } from 'credport/client';
import createClient from 'openapi-fetch';
import type { components, paths } from './generated/credport-api.js';

type Tile = components['schemas']['CredentialTile'];
type SyncEvent = components['schemas']['SyncEvent'];

const baseUrl = required('CREDPORT_URL');
const token = required('CREDPORT_API_TOKEN');
// Where the Front credential points (an emulator here) and the token it accepts.
const frontUrl = required('FRONT_URL');
const frontToken = required('FRONT_TOKEN');

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name}`);
  return value;
}

/** openapi-fetch: every path, parameter, body and answer typed from the document. */
async function withOpenapiFetch(): Promise<{
  connectors: string[];
  secretField: string[];
  refused: { status: number; field?: string };
  tile: Tile;
  flow: { tiles: number; events: string[]; records: number | undefined };
}> {
  const api = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${token}` } });
  const connectors = await api.GET('/api/v1/connectors');
  if (!connectors.data) throw new Error(`listConnectors: ${connectors.response.status}`);
  const form = await api.GET('/api/v1/connectors/{id}/form', { params: { path: { id: 'front' } } });
  if (!form.data) throw new Error(`getConnectorForm: ${form.response.status}`);
  const properties = form.data.form.schema.properties ?? {};
  const secretField = Object.keys(properties).filter((name) => properties[name]?.writeOnly === true);

  // `values` is Front's credential schema: name, description, apiKey (a misspelt field does not compile).
  const refused = await api.POST('/api/v1/credentials', {
    body: { connector: 'front', baseUrl: frontUrl, values: { name: 'Support', apiKey: 'not-a-front-token' } },
  });
  if (!refused.error) throw new Error('a wrong token was accepted');
  const created = await api.POST('/api/v1/credentials', {
    body: { connector: 'front', baseUrl: frontUrl, values: { name: 'Support', description: 'the support team', apiKey: frontToken } },
  });
  if (!created.data) throw new Error(`createCredential: ${created.error?.detail}`);

  // The rest of the flow on the same typed paths: the tiles, a source, a destination, a sync, its events, its summary.
  const tiles = await api.GET('/api/v1/credentials', { params: { query: { connector: 'front' } } });
  const source = await api.POST('/api/v1/sources', {
    body: { name: 'Front tags', connector: 'front', credentialId: created.data.id, streams: ['tags'] },
  });
  if (!source.data) throw new Error(`createSource: ${source.error?.detail}`);
  const destination = await api.POST('/api/v1/destinations', { body: { name: 'Files (openapi-fetch)', connector: 'jsonl' } });
  if (!destination.data) throw new Error(`createDestination: ${destination.error?.detail}`);
  const sync = await api.POST('/api/v1/syncs', { body: { source: source.data.id, destination: destination.data.id } });
  if (!sync.data) throw new Error(`startSync: ${sync.error?.detail}`);
  // Server-Sent Events: the stream ends after `finished` or `failed`; each `data:` line is one SyncEvent.
  const stream = await api.GET('/api/v1/syncs/{id}/events', { params: { path: { id: sync.data.id } }, parseAs: 'text' });
  const events: SyncEvent[] = (stream.data ?? '')
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice('data: '.length)));
  const done = await api.GET('/api/v1/syncs/{id}', { params: { path: { id: sync.data.id } } });
  return {
    connectors: connectors.data.map((connector) => connector.id),
    secretField,
    refused: { status: refused.response.status, ...(refused.error.field ? { field: refused.error.field } : {}) },
    tile: created.data,
    flow: { tiles: tiles.data?.length ?? 0, events: events.map((event) => event.event), records: done.data?.summary?.records },
  };
}

/** credport/client: a method per operationId, problems thrown as CredportProblem, events as an async iterator. */
async function withCredportClient(tile: Tile): Promise<{ tiles: number; events: string[]; records: number | undefined; notFound: string }> {
  const credport: CredportClient = createCredportClient({ baseUrl, token });
  const tiles = await credport.listCredentials({ query: { connector: 'front' } });
  const source = await credport.createSource({ body: { name: 'Front tags', connector: 'front', credentialId: tile.id, streams: ['tags'] } });
  const destination = await credport.createDestination({ body: { name: 'Files', connector: 'jsonl' } });
  const sync = await credport.startSync({ body: { source: source.id, destination: destination.id } });
  const events: string[] = [];
  for await (const { data } of credport.getSyncEvents({ path: { id: sync.id } })) events.push(data.event);
  const done = await credport.getSync({ path: { id: sync.id } });
  const gone = await credport.createCredential({ body: { connector: 'front', values: { name: 'Gone', apiKey: 'temporary-token' }, verify: false } });
  await credport.deleteCredential({ path: { id: gone.id } });
  const notFound = await credport.getCredential({ path: { id: gone.id } }).then(
    () => 'found',
    (error: unknown) => (error instanceof CredportProblem ? `${error.status} ${error.code}` : 'not a problem'),
  );
  return { tiles: tiles.length, events, records: done.summary?.records, notFound };
}

const first = await withOpenapiFetch();
const second = await withCredportClient(first.tile);
console.log(JSON.stringify({ ...first, tile: first.tile.status, ...second }));
