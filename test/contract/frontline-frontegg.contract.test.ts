import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openCredport } from '../../src/open-credport.js';
import type { SyncEvent } from '../../src/generated/sync-event.js';
import { type PrismMock, prismViolations, REPO_ROOT, startPrism } from '../helpers/prism-mock.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

/**
 * The Frontline and Frontegg connectors against mock servers of the providers' own OpenAPI
 * documents (`../shared/specs/`, beside the clone), run by Prism in `--errors` mode: every request
 * credport sends is validated against the contract (path, query, headers, security, body).
 *
 * Three repairs are made to copies of the documents, each where the document contradicts itself or
 * the provider's documentation, never to loosen what credport's requests are checked against:
 * - Frontline's `GET /public/v1/me` names a security scheme `bearerAuth` that the document never
 *   defines (its keys are `accountApiKey` and `userApiKey`, both Bearer); Prism refuses every call
 *   to an undefined scheme, so it is defined as the Bearer scheme it names.
 * - Frontegg's document sets its servers to `https://api.frontegg.com/identity` but writes paths
 *   without `/identity`; Prism ignores the server's path, so the paths are mounted below it.
 * - Frontegg's API-token exchange inherits the document's global Bearer requirement, although it is
 *   how a Bearer token is obtained (Frontegg's docs: the body's clientId and secret only); its
 *   `security` is emptied. Its `expires_in` gets an example (a day), since Prism would otherwise
 *   answer 0, a lifetime credport rightly refuses.
 */
const FRONTLINE_SPEC = join(REPO_ROOT, '..', 'shared', 'specs', 'frontline-openapi.yml');
const FRONTEGG_SPEC = join(REPO_ROOT, '..', 'shared', 'specs', 'frontegg-identity.json');

let home: string;
beforeAll(async () => (home = await tempHome()));
afterAll(() => removeHome(home));

async function frontlineSpec(): Promise<string> {
  const text = await readFile(FRONTLINE_SPEC, 'utf8');
  const anchor = '\n  securitySchemes:\n';
  expect(text).toContain(anchor);
  const path = join(home, 'frontline-openapi.yml');
  await writeFile(path, text.replace(anchor, `${anchor}    bearerAuth:\n      type: http\n      scheme: bearer\n`));
  return path;
}

async function fronteggSpec(): Promise<string> {
  const spec = JSON.parse(await readFile(FRONTEGG_SPEC, 'utf8'));
  const base = new URL(spec.servers[0].url).pathname; // "/identity"
  expect(base).toBe('/identity');
  spec.paths = Object.fromEntries(Object.entries(spec.paths).map(([path, item]) => [`${base}${path}`, item]));
  const exchange = spec.paths[`${base}/resources/auth/v2/api-token`].post;
  exchange.security = [];
  spec.components.schemas.ApiTokenAuthV2Response.properties.expires_in.example = 86_400;
  const path = join(home, 'frontegg-identity.json');
  await writeFile(path, JSON.stringify(spec));
  return path;
}

/** Verifies a credential, then syncs every stream of its connector into JSONL files. */
async function verifyAndSyncEverything(connector: 'frontline' | 'frontegg', values: Record<string, string>, baseUrl: string) {
  const credport = await openCredport({ home: join(home, connector), env: {} });
  try {
    const tile = await credport.credentials.create({ connector, values: { name: `${connector} contract`, ...values }, baseUrl });
    const source = await credport.configs.addSource({ name: connector, connector, credentialId: tile.id });
    const destination = await credport.configs.addDestination({ name: 'Files', connector: 'jsonl', path: join(home, connector, 'out') });
    const events: SyncEvent[] = [];
    const summary = await credport.syncs.run(source.id, destination.id, { onEvent: (event) => events.push(event) });
    return { tile, source, summary, events };
  } finally {
    await credport.close();
  }
}

async function lines(connector: string, stream: string): Promise<unknown[]> {
  return (await readFile(join(home, connector, 'out', `${stream}.jsonl`), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

describe("Frontline's OpenAPI document, served by Prism", () => {
  let prism: PrismMock;
  beforeAll(async () => (prism = await startPrism(await frontlineSpec(), { errors: true })), 120_000);
  afterAll(() => prism?.stop());

  it('verifies a key with GET /me and reads every stream, with no request breaking the contract', async () => {
    const { tile, source, summary } = await verifyAndSyncEverything(
      'frontline',
      { apiKey: 'fl_contract_test_key_0123456789' },
      `${prism.url}/public/v1`,
    );
    // The document's example is a USER key's identity (its user is set), so USER-only streams run too.
    expect(tile.identity).toMatchObject({ keyType: 'USER', namespace: expect.any(String) });
    expect(source.streams).toEqual(['agents', 'workflows', 'tools', 'ai_models', 'tasks', 'users']);
    expect(Object.keys(summary.streams)).toEqual(source.streams);
    for (const stream of source.streams) {
      const records = await lines('frontline', stream);
      expect(records.length).toBeGreaterThan(0);
      expect(records[0]).toHaveProperty('id');
    }
    for (const path of ['/me', '/agents', '/workflows', '/tools', '/ai-models', '/tasks', '/users'])
      expect(prism.log()).toContain(`get /public/v1${path} `);
    expect(prismViolations(prism.log())).toEqual([]);
  });
});

describe("Frontegg's identity OpenAPI document, served by Prism", () => {
  let prism: PrismMock;
  beforeAll(async () => (prism = await startPrism(await fronteggSpec(), { errors: true })), 120_000);
  afterAll(() => prism?.stop());

  it('exchanges the API token, then reads users by page number, with no request breaking the contract', async () => {
    const { tile, source, summary } = await verifyAndSyncEverything(
      'frontegg',
      { clientId: 'contract-client-id', secret: 'contract-secret-key-value' },
      prism.url,
    );
    expect(tile.status).toBe('verified');
    expect(source.streams).toEqual(['users']);
    expect(summary.streams.users!.pages).toBe(1); // the mock's page holds one user, fewer than _limit: the last
    expect((await lines('frontegg', 'users')).length).toBeGreaterThan(0);
    expect(prism.log()).toContain('post /identity/resources/auth/v2/api-token ');
    // Prism logs paths without queries; _limit and _offset were validated as the numbers the contract wants.
    expect(prism.log()).toContain('get /identity/resources/users/v3 ');
    expect(prismViolations(prism.log())).toEqual([]);
  });
});
