// A host's back end driving `credport serve`: the "Add New Credential" flow and a sync, with no cast.
// Two ways, side by side: openapi-fetch typed by openapi-typescript from the served document
// (src/generated/, `npm run generate`), and credport's own typed client, `credport/client`.
//
//   CREDPORT_URL=http://127.0.0.1:8737 CREDPORT_API_TOKEN=... FRONT_URL=... FRONT_TOKEN=... npm start
import { type CredportClient, CredportProblem, createCredportClient } from 'credport/client';
import createClient from 'openapi-fetch';
import type { components, paths } from './generated/credport-api.js';

type Tile = components['schemas']['CredentialTile'];

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
async function withOpenapiFetch(): Promise<{ connectors: string[]; secretField: string[]; refused: { status: number; field?: string }; tile: Tile }> {
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
  return {
    connectors: connectors.data.map((connector) => connector.id),
    secretField,
    refused: { status: refused.response.status, ...(refused.error.field ? { field: refused.error.field } : {}) },
    tile: created.data,
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
