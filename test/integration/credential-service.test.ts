import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { openCredport, type Credport } from '../../src/open-credport.js';
import { InputError, NotFoundError, ProviderRejectedError, ProviderUnavailableError, StoreError } from '../../src/errors.js';
import { writeConnector } from '../helpers/connector-fixtures.js';
import { FakeFront } from '../helpers/fake-front.js';
import { fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';
import { storedBytes, rawStore, testStoreUri } from '../helpers/test-store.js';

const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;
const tileSchema = JSON.parse(readFileSync(new URL('../../schemas/credential-tile.schema.json', import.meta.url), 'utf8'));
const isTile = addFormats(new Ajv({ strict: false })).compile(tileSchema);

let front: FakeFront;
let home: string;
let storeUri: string | undefined;
let credport: Credport;
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  CREDPORT_HTTP_RETRIES: '0',
  CREDPORT_HTTP_TIMEOUT_MS: '1000',
  ...extra,
});

beforeAll(async () => (front = await FakeFront.start()));
afterAll(() => front.close());
beforeEach(async () => {
  front.mode = 'ok';
  front.tokens.clear();
  front.seen.length = 0;
  home = await tempHome();
  storeUri = await testStoreUri();
  credport = await openCredport({ home, storeUri, env: env() });
});
afterEach(async () => {
  await credport.close();
  await removeHome(home);
});

const addFront = (token: string, extra: Record<string, unknown> = {}) =>
  credport.credentials.create({
    connector: 'front',
    values: { name: 'Support', description: 'Support team', apiKey: token },
    baseUrl: front.url,
    ...extra,
  });

async function storeIsEmpty(): Promise<void> {
  expect(await credport.credentials.list()).toEqual([]);
}

/** What the store holds under a key, read and written around credport (as an attacker with the database would). */
async function rawGet(key: string): Promise<string> {
  const raw = await rawStore(home, storeUri);
  try {
    return (await raw.get(key))!;
  } finally {
    await raw.close();
  }
}

async function rawSet(key: string, text: string): Promise<void> {
  const raw = await rawStore(home, storeUri);
  try {
    await raw.set(key, text);
  } finally {
    await raw.close();
  }
}

describe('create', () => {
  it('verifies with GET /me, captures the company as identity, seals and saves; the tile never holds the token', async () => {
    const token = fakeToken();
    front.allow(token);
    const tile = await addFront(token);
    expect(tile).toMatchObject({
      connector: 'front',
      name: 'Support',
      description: 'Support team',
      status: 'verified',
      identity: { id: 'cmp_k30', name: 'Dunder Mifflin Paper Company, Inc.' },
      secretHint: token.slice(-4),
      baseUrl: front.url,
    });
    expect(tile.verifiedAt).toBe(tile.createdAt);
    expect(isTile(tile)).toBe(true);
    expect(front.seen).toEqual([{ method: 'GET', path: '/me', authorization: `Bearer ${token}` }]);
    expect(await credport.credentials.show(tile.id)).toEqual(tile);
    expect(JSON.stringify(await credport.credentials.list())).not.toContain(token);
    expect(inspect(credport, { depth: 8, showHidden: true })).not.toContain(token);
  });

  it('keeps only ciphertext at rest: the SQLite file (and its WAL) never contains the token', async () => {
    const token = fakeToken();
    front.allow(token);
    await addFront(token);
    await credport.close();
    credport = await openCredport({ home, storeUri, env: env() });
    const bytes = await storedBytes(home, storeUri);
    expect(bytes.includes(Buffer.from(token))).toBe(false);
    expect(bytes.includes(Buffer.from(token.slice(0, 20)))).toBe(false);
    expect(bytes.includes(Buffer.from('Support team'))).toBe(true); // the file was really read
  });

  it('trims the name and drops an empty description', async () => {
    const token = fakeToken();
    front.allow(token);
    const tile = await credport.credentials.create({
      connector: 'front',
      values: { name: '  Ops  ', description: '   ', apiKey: token },
      baseUrl: front.url,
    });
    expect(tile.name).toBe('Ops');
    expect(tile).not.toHaveProperty('description');
  });

  it('gives no hint of a short secret', async () => {
    front.allow('short-tok1');
    const tile = await addFront('short-tok1');
    expect(tile).not.toHaveProperty('secretHint');
  });

  it('saves without asking the provider when told not to verify', async () => {
    const tile = await addFront(fakeToken(), { verify: false });
    expect(tile.status).toBe('unverified');
    expect(tile).not.toHaveProperty('identity');
    expect(front.seen).toEqual([]);
  });

  it("refuses a token Front answers 401, quoting Front's message, and saves nothing", async () => {
    const token = fakeToken();
    const error = await addFront(token).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect((error as Error).message).toContain('401 Unauthenticated: Invalid token');
    expect(inspect(error, { showHidden: true })).not.toContain(token);
    await storeIsEmpty();
  });

  it.each([
    ['a 5xx', 'error500', 'Front answered GET /me with 500 Internal Server Error: Something went wrong'],
    ['a timeout', 'hang', 'Front did not answer GET /me in time'],
    ['an answer that is not JSON', 'not-json', 'not JSON'],
    ['an answer without the identity', 'no-identity', 'without /id'],
  ] as const)('saves nothing after %s', async (_what, mode, message) => {
    const token = fakeToken();
    front.allow(token);
    front.mode = mode;
    const error = await addFront(token).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toContain(message);
    await storeIsEmpty();
  });

  it('saves nothing when the provider cannot be reached', async () => {
    const error = await credport.credentials
      .create({ connector: 'front', values: { name: 'x', apiKey: fakeToken() }, baseUrl: 'http://127.0.0.1:9' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'provider_unreachable', exitCode: 4 });
    await storeIsEmpty();
  });

  it.each([
    ['an unknown connector', { connector: 'slack', values: { name: 'x', apiKey: 'abcdefghij' } }, 'connector'],
    ['an unknown input field', { connector: 'front', values: { name: 'x', apiKey: 'abcdefghij' }, secret: 'x' }, 'secret'],
    ['an unknown form field', { connector: 'front', values: { name: 'x', apiKey: 'abcdefghij', owner: 'me' } }, 'owner'],
    ['a name of spaces only', { connector: 'front', values: { name: '   ', apiKey: 'abcdefghij' } }, 'name'],
    [
      'a plain-HTTP base URL off loopback',
      { connector: 'front', values: { name: 'x', apiKey: 'abcdefghij' }, baseUrl: 'http://example.com' },
      'baseUrl',
    ],
    ['values that are not an object', { connector: 'front', values: 'name=x' }, 'values'],
  ])('refuses %s before any request, naming the field', async (_what, input, field) => {
    const error = await credport.credentials.create(input as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe(field);
    expect(front.seen).toEqual([]);
    await storeIsEmpty();
  });
});

describe('hostile text, a tampered record or a racing delete leave the secrets and the store safe', () => {
  it('redacts a token the provider echoes in its identity, and strips terminal escapes and bidi overrides', async () => {
    const token = fakeToken();
    front.allow(token);
    front.mode = 'echo-token';
    const tile = await addFront(token);
    expect(String(tile.identity?.name)).toBe('Hello ***  31m evil');
    expect(JSON.stringify(await credport.credentials.list())).not.toContain(token);
    expect((await storedBytes(home, storeUri)).includes(Buffer.from(token))).toBe(false);
  });

  it('refuses a record whose base URL was changed in the store: the token cannot be pointed at another server', async () => {
    const token = fakeToken();
    front.allow(token);
    const tile = await addFront(token);
    const attacker = await FakeFront.start();
    try {
      const stored = JSON.parse(await rawGet(`credport:credential:${tile.id}`));
      stored.value.baseUrl = attacker.url;
      await rawSet(`credport:credential:${tile.id}`, JSON.stringify(stored));
      await expect(credport.credentials.test(tile.id)).rejects.toThrow('damaged');
      expect(attacker.seen).toEqual([]);
    } finally {
      await attacker.close();
    }
  });

  it('never shows the master key in util.inspect or JSON of the library objects', async () => {
    const key = randomMasterKey();
    const keyed = await openCredport({ home: await tempHome(), env: env({ CREDPORT_MASTER_KEY: key }) });
    const hex = Buffer.from(key, 'base64').toString('hex');
    const bytes = Buffer.from(key, 'base64').subarray(0, 6).toString('hex').match(/../g)!.join(' ');
    const views = [
      inspect(keyed, { depth: 30, showHidden: true }),
      JSON.stringify(keyed.credentials, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    ];
    for (const view of views) {
      expect(view).not.toContain(key);
      expect(view).not.toContain(hex);
      expect(view).not.toContain(bytes);
    }
    await keyed.close();
  });

  it('does not bring back a credential deleted while it was being tested', async () => {
    const token = fakeToken();
    front.allow(token);
    const tile = await addFront(token);
    front.mode = 'slow';
    const testing = credport.credentials.test(tile.id).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await credport.credentials.delete(tile.id);
    expect(await testing).toBeInstanceOf(NotFoundError);
    await storeIsEmpty();
  });

  it('refuses a name with a text-direction override', async () => {
    await expect(
      credport.credentials.create({ connector: 'front', values: { name: 'invoice\u202Egpj.exe', apiKey: fakeToken() }, verify: false }),
    ).rejects.toThrow('Credential Name (name) must not contain control characters, line breaks or text-direction overrides');
  });
});

describe('list, show, update, delete', () => {
  it('lists tiles sorted by creation time, all or one connector, from one store', async () => {
    const extras = await tempHome();
    await writeConnector(extras, 'acme', (m) => ((m.http as Record<string, unknown>).baseUrl = 'https://api.acme.example'));
    const both = await openCredport({ home, storeUri, env: env(), extraConnectorDirs: [extras] });
    const a = await both.credentials.create({ connector: 'front', values: { name: 'A', apiKey: fakeToken() }, verify: false });
    const b = await both.credentials.create({ connector: 'acme', values: { name: 'B', token: fakeToken() }, verify: false });
    const c = await both.credentials.create({ connector: 'front', values: { name: 'C', apiKey: fakeToken() }, verify: false });
    const all = await both.credentials.list();
    expect(all.map((t) => t.id).sort()).toEqual([a.id, b.id, c.id].sort());
    expect(all.map((t) => `${t.createdAt} ${t.id}`)).toEqual(all.map((t) => `${t.createdAt} ${t.id}`).sort());
    expect((await both.credentials.list({ connector: 'front' })).map((t) => t.id).sort()).toEqual([a.id, c.id].sort());
    expect((await both.credentials.list({ connector: 'acme' })).map((t) => t.name)).toEqual(['B']);
    await expect(both.credentials.list({ connector: 'nope' })).rejects.toThrow('unknown connector');
    await both.close();
    await removeHome(extras);
  });

  it('updates name and description, refusing bad values and leaving the record as it was', async () => {
    const tile = await addFront(fakeToken(), { verify: false });
    const updated = await credport.credentials.update(tile.id, { name: ' Renamed ', description: 'New' });
    expect(updated).toMatchObject({ name: 'Renamed', description: 'New', createdAt: tile.createdAt });
    await expect(credport.credentials.update(tile.id, { name: 'x'.repeat(101) })).rejects.toThrow(
      'Credential Name (name) must be at most 100 characters',
    );
    await expect(credport.credentials.update(tile.id, { name: 'a\r\nb' })).rejects.toThrow(InputError);
    await expect(credport.credentials.update(tile.id, { secret: 'x' } as never)).rejects.toThrow('unknown field "secret"');
    expect(await credport.credentials.show(tile.id)).toEqual(updated);
    expect(await credport.credentials.update(tile.id, { description: '' })).not.toHaveProperty('description');
  });

  it.each(['x', 'cred_0123', 'CRED_0123456789ABCDEF', 'see cred_0123456789abcdef', 'cred_0123456789abcdef/../x', 42])(
    'refuses %j as a credential id, naming the field',
    async (id) => {
      const error = await credport.credentials.show(id as string).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect(error).toMatchObject({
        field: 'id',
        message: expect.stringContaining('is not a credential id (they look like cred_0123456789abcdef)'),
      });
    },
  );

  it.each([null, ['a'], 'text'])('refuses form values that are %j, naming the field', async (values) => {
    await expect(credport.credentials.create({ connector: 'front', values: values as never, verify: false })).rejects.toMatchObject({
      field: 'values',
      message: 'values must be an object of form fields',
    });
  });

  it("takes a Frontegg credential's base URL from its domain, else its region (the default region's is the manifest's own)", async () => {
    const tenant = { name: 'Tenant', clientId: 'client-0123456789', secret: 'first-secret-0123456789' };
    const create = (extra: Record<string, string>) =>
      credport.credentials.create({ connector: 'frontegg', values: { ...tenant, ...extra }, verify: false });
    expect(await create({ region: 'US', domain: 'acme.frontegg.com' })).toMatchObject({ baseUrl: 'https://acme.frontegg.com' });
    expect(await create({ region: 'US' })).toMatchObject({ baseUrl: 'https://api.us.frontegg.com' });
    expect(await create({ region: 'EU' })).not.toHaveProperty('baseUrl');
  });

  it('saves an empty description as none (the field is recommended, not required)', async () => {
    const tile = await credport.credentials.create({
      connector: 'front',
      values: { name: 'Support', description: '', apiKey: fakeToken() },
      baseUrl: front.url,
      verify: false,
    });
    expect(tile).not.toHaveProperty('description');
    expect(await credport.credentials.show(tile.id)).not.toHaveProperty('description');
  });

  it('deletes, after which the id is not found', async () => {
    const tile = await addFront(fakeToken(), { verify: false });
    expect(await credport.credentials.delete(tile.id)).toEqual({ id: tile.id, deleted: true });
    await expect(credport.credentials.show(tile.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(credport.credentials.delete(tile.id)).rejects.toThrow(`no credential ${tile.id}`);
  });

  it('refuses ids that are not credential ids', async () => {
    await expect(credport.credentials.show('../../etc/passwd')).rejects.toThrow('is not a credential id');
  });
});

describe('test and rotate', () => {
  it('test re-verifies; a revoked token marks the tile invalid; an outage changes nothing', async () => {
    const token = fakeToken();
    front.allow(token);
    const tile = await addFront(token);
    front.mode = 'error500';
    await expect(credport.credentials.test(tile.id)).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect((await credport.credentials.show(tile.id)).status).toBe('verified');
    front.mode = 'ok';
    front.tokens.delete(token);
    await expect(credport.credentials.test(tile.id)).rejects.toBeInstanceOf(ProviderRejectedError);
    expect((await credport.credentials.show(tile.id)).status).toBe('invalid');
    front.allow(token, { id: 'cmp_2', name: 'Renamed Co' });
    expect(await credport.credentials.test(tile.id)).toMatchObject({ status: 'verified', identity: { id: 'cmp_2', name: 'Renamed Co' } });
  });

  it('rotate keeps the old secret when the new one is refused, and uses the new one once verified', async () => {
    const oldToken = fakeToken('old');
    const newToken = fakeToken('new');
    front.allow(oldToken);
    const tile = await addFront(oldToken);

    await expect(credport.credentials.rotate(tile.id, { secrets: { apiKey: newToken } })).rejects.toBeInstanceOf(ProviderRejectedError);
    await expect(credport.credentials.rotate(tile.id, { secrets: { apiKey: 'has space 123' } })).rejects.toThrow('API Key Value (apiKey)');
    await expect(credport.credentials.rotate(tile.id, { secrets: { apiKey: newToken, name: 'x' } })).rejects.toThrow(
      'unknown field "name"',
    );
    front.mode = 'hang';
    await expect(credport.credentials.rotate(tile.id, { secrets: { apiKey: newToken } })).rejects.toBeInstanceOf(ProviderUnavailableError);
    front.mode = 'ok';
    expect(await credport.credentials.show(tile.id)).toEqual(tile);
    front.seen.length = 0;
    await credport.credentials.test(tile.id);
    expect(front.seen.at(-1)?.authorization).toBe(`Bearer ${oldToken}`);

    front.allow(newToken);
    const rotated = await credport.credentials.rotate(tile.id, { secrets: { apiKey: newToken } });
    expect(rotated).toMatchObject({ id: tile.id, status: 'verified', secretHint: newToken.slice(-4), createdAt: tile.createdAt });
    await credport.credentials.test(tile.id);
    expect(front.seen.at(-1)?.authorization).toBe(`Bearer ${newToken}`);
  });
});

describe('a damaged store or a wrong key', () => {
  it('names a record that is not JSON, while the others stay usable and it can be deleted', async () => {
    const good = await addFront(fakeToken(), { verify: false });
    const bad = await addFront(fakeToken(), { verify: false });
    await rawSet(`credport:credential:${bad.id}`, '{not json');
    const error = await credport.credentials.show(bad.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain(`${bad.id}`);
    expect((error as StoreError).exitCode).toBe(5);
    await expect(credport.credentials.list()).rejects.toThrow(`credential ${bad.id} in the store is damaged`);
    expect(await credport.credentials.show(good.id)).toEqual(good);
    await credport.credentials.delete(bad.id);
    expect((await credport.credentials.list()).map((t) => t.id)).toEqual([good.id]);
  });

  it('names a record whose sealed secret was altered, and does not use it', async () => {
    const token = fakeToken();
    front.allow(token);
    const tile = await addFront(token);
    const stored = JSON.parse(await rawGet(`credport:credential:${tile.id}`));
    stored.value.sealed.ct = Buffer.from('x'.repeat(40)).toString('base64');
    await rawSet(`credport:credential:${tile.id}`, JSON.stringify(stored));
    front.seen.length = 0;
    await expect(credport.credentials.test(tile.id)).rejects.toThrow(`credential ${tile.id} is damaged`);
    expect(front.seen).toEqual([]);
  });

  it('refuses a sealed secret copied onto another record', async () => {
    const victim = await addFront(fakeToken(), { verify: false });
    const attacker = await addFront(fakeToken(), { verify: false });
    const forged = JSON.parse(await rawGet(`credport:credential:${attacker.id}`));
    forged.value.sealed = JSON.parse(await rawGet(`credport:credential:${victim.id}`)).value.sealed;
    await rawSet(`credport:credential:${attacker.id}`, JSON.stringify(forged));
    await expect(credport.credentials.client(attacker.id)).rejects.toThrow('damaged');
  });

  it('refuses to open with a wrong master key, naming it, and the store stays intact for the right one', async () => {
    const key = randomMasterKey();
    const homeWithKey = await tempHome();
    // A store of its own: the one every test opens already knows the home's key.
    await credport.close();
    storeUri = await testStoreUri();
    const first = await openCredport({ home: homeWithKey, storeUri, env: env({ CREDPORT_MASTER_KEY: key }) });
    const tile = await first.credentials.create({ connector: 'front', values: { name: 'x', apiKey: fakeToken() }, verify: false });
    await first.close();
    const error = await openCredport({ home: homeWithKey, storeUri, env: env({ CREDPORT_MASTER_KEY: randomMasterKey() }) }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('wrong_master_key');
    expect((error as StoreError).message).toContain('wrong master key');
    const again = await openCredport({ home: homeWithKey, storeUri, env: env({ CREDPORT_MASTER_KEY: key }) });
    expect(await again.credentials.show(tile.id)).toEqual(tile);
    await again.close();
    await removeHome(homeWithKey);
    storeUri = await testStoreUri();
    credport = await openCredport({ home, storeUri, env: env() });
  });

  it('refuses a store file that is not a database', async () => {
    const other = await tempHome();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(other, 'credport.sqlite'), 'this is not sqlite, just text padding '.repeat(50));
    await expect(openCredport({ home: other, env: env() })).rejects.toThrow(/store sqlite:\/\/.* cannot be used/);
    await removeHome(other);
  });
});

/** Every stretch of 8 characters of the secret: none may show in a message, an inspected error or its JSON. */
function expectNoPartOf(secret: string, error: unknown): void {
  const views = [(error as Error).message, inspect(error, { showHidden: true, depth: 8 }), JSON.stringify(error)];
  for (let i = 0; i + 8 <= secret.length; i++) for (const view of views) expect(view).not.toContain(secret.slice(i, i + 8));
}

describe('a secret pasted into a public field', () => {
  it.each([
    ['the description', 'description', (t: string) => ({ name: 'Support', description: `key is ${t}`, apiKey: t })],
    ['the name', 'name', (t: string) => ({ name: t, apiKey: t })],
    [
      'the description, a stretch of it without the JWT shape',
      'description',
      (t: string) => ({ name: 'Support', description: `ends ${t.slice(12, 40)}`, apiKey: t }),
    ],
  ])(
    'refuses the secret being saved in %s with exit code 2, naming the field, before any request, saving nothing',
    async (_what, field, values) => {
      const token = fakeToken();
      front.allow(token);
      const error = await credport.credentials
        .create({ connector: 'front', values: values(token), baseUrl: front.url })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect(error).toMatchObject({ field, exitCode: 2, code: 'secret_in_public_field' });
      expect((error as Error).message).toContain(`(${field}) contains the API Key Value`);
      expectNoPartOf(token, error);
      expect(front.seen).toEqual([]);
      await storeIsEmpty();
      expect((await storedBytes(home, storeUri)).includes(Buffer.from(token.slice(12, 40)))).toBe(false);
    },
  );

  it("refuses text of Front's token shape (a JWT) in the description even when it is not the secret being saved", async () => {
    const token = fakeToken();
    const other = `eyJhbGciOiJIUzI1NiJ9.eyJzY29wZXMiOlsic2hhcmVkOioiXX0.${fakeToken().slice(-32)}`;
    front.allow(token);
    const error = await credport.credentials
      .create({ connector: 'front', values: { name: 'Support', description: `old key ${other}`, apiKey: token }, baseUrl: front.url })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ field: 'description', exitCode: 2 });
    expect((error as Error).message).toBe(
      'Credential Description (description) contains text shaped like a Front API token (a JWT): public fields are stored and shown in the clear, so a secret must not go there',
    );
    expectNoPartOf(other, error);
    expect(front.seen).toEqual([]);
    await storeIsEmpty();
  });

  it('keeps ordinary descriptions: words, a hint of the last 4 characters, dotted names that are not JWTs', async () => {
    const token = fakeToken();
    front.allow(token);
    const tile = await credport.credentials.create({
      connector: 'front',
      values: {
        name: 'Support v1.2.3',
        description: `test key ending ${token.slice(-4)}; see eyJ docs at api2.frontapp.com`,
        apiKey: token,
      },
      baseUrl: front.url,
    });
    expect(tile.status).toBe('verified');
  });

  it('applies to every public field: the Frontegg Secret Key in the Client ID is refused, an ordinary Client ID is not', async () => {
    const secret = 'fe-secret-0123456789abcdef';
    const values = (clientId: string) => ({ name: 'Tenant', clientId, secret, region: 'US' });
    const error = await credport.credentials
      .create({ connector: 'frontegg', values: values(`cid${secret}`), verify: false })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ field: 'clientId', exitCode: 2 });
    expect((error as Error).message).toContain('Client ID (clientId) contains the Secret Key');
    expectNoPartOf(secret, error);
    await storeIsEmpty();
    expect(await credport.credentials.create({ connector: 'frontegg', values: values('client-0123456789'), verify: false })).toMatchObject({
      name: 'Tenant',
      status: 'unverified',
    });
  });

  it('refuses the secret in a base URL given with it', async () => {
    const token = fakeToken();
    const error = await credport.credentials
      .create({ connector: 'front', values: { name: 'x', apiKey: token }, baseUrl: `${front.url}/${token}` })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ field: 'baseUrl', exitCode: 2 });
    expect(front.seen).toEqual([]);
    await storeIsEmpty();
  });

  it('update refuses the saved secret, or a JWT, in the name or description, and leaves the record as it was', async () => {
    const token = fakeToken();
    front.allow(token);
    const tile = await addFront(token);
    for (const input of [{ description: `key: ${token}` }, { name: token.slice(5, 30) }, { description: `other ${fakeToken()}` }]) {
      const error = await credport.credentials.update(tile.id, input).catch((e: unknown) => e);
      expect(error).toMatchObject({ field: Object.keys(input)[0], exitCode: 2, code: 'secret_in_public_field' });
      expectNoPartOf(token, error);
    }
    expect(await credport.credentials.show(tile.id)).toEqual(tile);
  });

  it('rotate refuses a new secret that the saved description holds, before asking the provider, keeping the old one', async () => {
    const oldToken = fakeToken('old');
    const newKey = 'rotated-key-0123456789abcdef';
    front.allow(oldToken);
    front.allow(newKey);
    const tile = await credport.credentials.create({
      connector: 'front',
      values: { name: 'Support', description: `next: ${newKey}`, apiKey: oldToken },
      baseUrl: front.url,
    });
    front.seen.length = 0;
    const error = await credport.credentials.rotate(tile.id, { secrets: { apiKey: newKey } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ field: 'description', exitCode: 2 });
    expectNoPartOf(newKey, error);
    expect(front.seen).toEqual([]);
    expect(await credport.credentials.show(tile.id)).toEqual(tile);
  });

  it('rotate checks the public fields again as it saves: a description changed meanwhile to hold the new secret is refused', async () => {
    const oldToken = fakeToken('old');
    const newKey = 'rotated-key-0123456789abcdef';
    front.allow(oldToken);
    front.allow(newKey);
    const tile = await credport.credentials.create({
      connector: 'front',
      values: { name: 'Support', apiKey: oldToken },
      baseUrl: front.url,
    });
    front.mode = 'slow'; // the provider takes 300 ms to verify the new key
    const rotating = credport.credentials.rotate(tile.id, { secrets: { apiKey: newKey } }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const renamed = await credport.credentials.update(tile.id, { description: `next: ${newKey}` }); // another process, meanwhile
    const error = await rotating;
    expect(error).toMatchObject({ field: 'description', exitCode: 2, code: 'secret_in_public_field' });
    expectNoPartOf(newKey, error);
    expect(await credport.credentials.show(tile.id)).toEqual(renamed); // the old secret stays, the rename stays
    front.mode = 'ok';
    front.seen.length = 0;
    await credport.credentials.test(tile.id);
    expect(front.seen.at(-1)?.authorization).toBe(`Bearer ${oldToken}`);
  });

  it('rotate without verification drops the old identity: it said whose the old secret was, not the new one', async () => {
    const token = fakeToken();
    front.allow(token);
    const tile = await credport.credentials.create({ connector: 'front', values: { name: 'Support', apiKey: token }, baseUrl: front.url });
    expect(tile).toMatchObject({ status: 'verified', identity: expect.any(Object), verifiedAt: expect.any(String) });
    const rotated = await credport.credentials.rotate(tile.id, { secrets: { apiKey: fakeToken('unchecked') }, verify: false });
    expect(rotated.status).toBe('unverified');
    expect(rotated).not.toHaveProperty('identity');
    expect(rotated).not.toHaveProperty('verifiedAt');
    expect(rotated.revision).toBe(tile.revision + 1);
  });

  it("rotate refuses text of the connector's secret shape in a public field given with the new secret", async () => {
    const extras = await tempHome();
    const schema = {
      $id: 'https://example.com/acme-rotate.schema.json',
      type: 'object',
      properties: {
        name: { $ref: 'https://credport.dev/schemas/credential-fields.schema.json#/definitions/name' },
        account: { title: 'Account', type: 'string' },
        token: { title: 'Token', type: 'string', writeOnly: true, minLength: 8 },
      },
      required: ['name', 'token'],
      additionalProperties: false,
    };
    await writeConnector(
      extras,
      'acme',
      (m) => ((m.credential as Record<string, unknown>).secretShape = { pattern: 'acme_live_[0-9a-f]{8}', label: 'an Acme live key' }),
      schema,
    );
    const acme = await openCredport({ home, storeUri, env: env(), extraConnectorDirs: [extras] });
    try {
      const tile = await acme.credentials.create({
        connector: 'acme',
        values: { name: 'A', account: 'acct-1', token: 'first-token-1' },
        verify: false,
      });
      const error = await acme.credentials
        .rotate(tile.id, { secrets: { account: 'acme_live_0123abcd', token: 'second-token-2' }, verify: false })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ field: 'account', exitCode: 2, code: 'secret_in_public_field' });
      expect(await acme.credentials.show(tile.id)).toEqual(tile);
    } finally {
      await acme.close();
      await removeHome(extras);
    }
  });

  it('rotate refuses a new Frontegg Secret Key given inside its Client ID', async () => {
    const tile = await credport.credentials.create({
      connector: 'frontegg',
      values: { name: 'Tenant', clientId: 'client-0123456789', secret: 'first-secret-0123456789' },
      verify: false,
    });
    const secret = 'second-secret-0123456789';
    const error = await credport.credentials
      .rotate(tile.id, { secrets: { clientId: `x${secret}`, secret }, verify: false })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ field: 'clientId', exitCode: 2 });
    expect(await credport.credentials.show(tile.id)).toEqual(tile);
  });
});

describe('odd keys are refused under their own name', () => {
  const token = 'abcdefghij0123456789';
  it.each([
    ['an own "__proto__" holding an object', `{"name":"x","apiKey":"${token}","__proto__":{"isAdmin":true}}`, '__proto__'],
    ['an own "__proto__" holding a string', `{"name":"x","apiKey":"${token}","__proto__":"x"}`, '__proto__'],
    ['"constructor"', `{"name":"x","apiKey":"${token}","constructor":"x"}`, 'constructor'],
    ['"prototype"', `{"name":"x","apiKey":"${token}","prototype":{"isAdmin":true}}`, 'prototype'],
  ])('create refuses values with %s, naming it, before any request, saving nothing', async (_what, json, field) => {
    const error = await credport.credentials
      .create({ connector: 'front', values: JSON.parse(json), baseUrl: front.url })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ field, exitCode: 2 });
    expect((error as Error).message).toBe(`"${field}" is not a field of this form (unknown field)`);
    expect(front.seen).toEqual([]);
    await storeIsEmpty();
  });

  it('create, update and rotate refuse an own "__proto__" in their input by name', async () => {
    const parsed = (json: string) => JSON.parse(json) as never;
    await expect(
      credport.credentials.create(parsed(`{"connector":"front","values":{"name":"x","apiKey":"${token}"},"__proto__":{"verify":false}}`)),
    ).rejects.toMatchObject({ field: '__proto__' });
    const tile = await addFront(fakeToken(), { verify: false });
    await expect(credport.credentials.update(tile.id, parsed('{"name":"y","__proto__":{"description":"z"}}'))).rejects.toMatchObject({
      field: '__proto__',
    });
    await expect(
      credport.credentials.rotate(tile.id, parsed(`{"secrets":{"apiKey":"${token}","__proto__":{"name":"n"}}}`)),
    ).rejects.toMatchObject({ field: '__proto__' });
    expect(await credport.credentials.show(tile.id)).toEqual(tile);
  });
});
