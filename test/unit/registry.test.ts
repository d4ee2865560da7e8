import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';
import { InputError } from '../../src/errors.js';
import { writeConnector } from '../helpers/connector-fixtures.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

// A manifest spoiled on purpose: any JSON shape at all, which the loader under test must refuse.
// biome-ignore lint/suspicious/noExplicitAny: the draft is untyped JSON by design; the loader is what checks it
type Draft = any;

let registry: ConnectorRegistry;
let extras: string;

beforeAll(async () => {
  registry = await ConnectorRegistry.load();
  extras = await tempHome();
});
afterAll(() => removeHome(extras));

describe('the Front form a host renders', () => {
  it('has Credential Name (required), Credential Description (optional) and API Key Value (writeOnly, password)', () => {
    const { schema, uiSchema } = registry.form('front');
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    expect(properties.name?.title).toBe('Credential Name');
    expect(properties.description?.title).toBe('Credential Description');
    expect(properties.apiKey).toMatchObject({ title: 'API Key Value', writeOnly: true, format: 'password' });
    expect(schema.required).toEqual(['name', 'apiKey']);
    expect(uiSchema['ui:order']).toEqual(['name', 'description', 'apiKey']);
  });

  it('is self-contained: shared definitions are inlined, so a renderer needs no other file', () => {
    expect(JSON.stringify(registry.form('front'))).not.toContain('$ref');
  });

  it('is a copy: a host mutating it does not change the registry', () => {
    (registry.form('front').schema as Record<string, unknown>).title = 'changed';
    expect(registry.form('front').schema.title).toBe('FrontCredential');
  });

  it('marks only the API key as secret', () => {
    expect(registry.get('front').secretFields).toEqual(['apiKey']);
  });
});

describe('validating form input', () => {
  const front = () => registry.get('front');
  const good = { name: 'Support', description: 'Support team', apiKey: 'tok_0123456789abcdef' };
  const secret = 'tok_SECRET_value_123';

  it.each([
    ['a missing name', { apiKey: secret }, 'name', 'Credential Name (name) is required'],
    ['an empty name', { name: '', apiKey: secret }, 'name', 'Credential Name (name) must not be empty'],
    ['a name over 100 characters', { name: 'n'.repeat(101), apiKey: secret }, 'name', 'at most 100 characters'],
    ['a name with a line break', { name: 'a\nb', apiKey: secret }, 'name', 'control characters'],
    ['a description over 1000 characters', { name: 'x', description: 'd'.repeat(1001), apiKey: secret }, 'description', 'at most 1000'],
    ['a description with a bell character', { name: 'x', description: 'a\u0007b', apiKey: secret }, 'description', 'control characters'],
    ['a missing API key', { name: 'x' }, 'apiKey', 'API Key Value (apiKey) is required'],
    ['a space in the API key', { name: 'x', apiKey: `${secret} x` }, 'apiKey', 'spaces'],
    ['CR/LF in the API key', { name: 'x', apiKey: `${secret}\r\nX-Evil: 1` }, 'apiKey', 'line breaks'],
    ['a control character in the API key', { name: 'x', apiKey: `${secret}\u0000` }, 'apiKey', 'control'],
    ['a too short API key', { name: 'x', apiKey: 'abc' }, 'apiKey', 'at least 8 characters'],
    ['a too long API key', { name: 'x', apiKey: 'a'.repeat(4097) }, 'apiKey', 'at most 4096'],
    ['an API key that is not a string', { name: 'x', apiKey: 12345678 }, 'apiKey', 'must be a string'],
    ['an unknown field', { name: 'x', apiKey: secret, token: 'y' }, 'token', 'unknown field'],
  ])('refuses %s, naming the field and never quoting the value', (_what, values, field, message) => {
    let thrown: unknown;
    try {
      registry.validateValues(front(), values);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).field).toBe(field);
    expect((thrown as InputError).message).toContain(message);
    expect((thrown as InputError).message).not.toContain('SECRET');
  });

  it('names one field for a form with several problems (ajv reports all of them): the missing one first', () => {
    let thrown: unknown;
    try {
      registry.validateValues(front(), { name: '', description: 'd'.repeat(1001) });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).field).toBe('apiKey');
    expect((thrown as InputError).message).toBe('API Key Value (apiKey) is required');
  });

  it('accepts a complete form, with or without a description', () => {
    expect(() => registry.validateValues(front(), good)).not.toThrow();
    expect(() => registry.validateValues(front(), { name: 'x', apiKey: good.apiKey })).not.toThrow();
  });
});

describe('loading connectors', () => {
  it('refuses an unknown connector, naming the ones it knows', () => {
    expect(() => registry.get('frontt')).toThrow('unknown connector "frontt" (known: front, frontegg, frontline)');
  });

  it('loads a host-supplied connector folder as data, beside the built-in ones', async () => {
    await writeConnector(extras, 'acme');
    const withAcme = await ConnectorRegistry.load({ extraConnectorDirs: [extras] });
    expect(withAcme.list().map((c) => c.id)).toEqual(['acme', 'front', 'frontegg', 'frontline']);
    const acme = withAcme.get('acme');
    expect(acme.secretFields).toEqual(['token']);
    expect((acme.form.schema.properties as Record<string, { title?: string }>).name?.title).toBe('Credential Name');
  });

  it.each([
    ['a plain-HTTP base URL', (m: Draft) => (m.http.baseUrl = 'http://api.bad.example'), '/http/baseUrl'],
    ['an unknown property', (m: Draft) => (m.colour = 'red'), 'unknown property "colour"'],
    ['a missing verification', (m: Draft) => delete m.verification, 'missing property "verification"'],
    ['an unknown auth strategy', (m: Draft) => (m.auth.strategy = 'magic'), '/auth/strategy'],
    ['a bad JSON pointer', (m: Draft) => (m.verification.identity.id = 'id'), '/verification/identity/id'],
    // Issue 21: no pointer, name or template of a manifest may reach a prototype slot.
    ['an identity pointer through __proto__', (m: Draft) => (m.verification.identity.id = '/__proto__/id'), '/verification/identity/id'],
    [
      'an identity field named __proto__',
      (m: Draft) => own(m.verification.identity, '__proto__', '/id'),
      '/verification/identity/__proto__',
    ],
    ['an error message pointer through constructor', (m: Draft) => (m.errors.message = '/error/constructor/prototype'), '/errors/message'],
    [
      'a record selector through prototype',
      (m: Draft) => (m.streams = { items: stream({ recordSelector: '/prototype' }) }),
      '/streams/items/recordSelector',
    ],
    [
      'a next-page pointer through __proto__',
      (m: Draft) => (m.streams = { items: stream({ pagination: { type: 'cursor', next: '/__proto__/next', tokenParam: 'page' } }) }),
      '/streams/items/pagination',
    ],
    ['a stream named constructor', (m: Draft) => (m.streams = { constructor: stream() }), '/streams/constructor'],
    [
      'a cursor field named __proto__',
      (m: Draft) => (m.streams = { items: stream({ incremental: { cursorField: '__proto__', param: 'since', template: '{cursor}' } }) }),
      '/streams/items/incremental/cursorField',
    ],
    [
      'an operation named prototype.create',
      (m: Draft) => (m.operations = { 'prototype.create': operation() }),
      '/operations/prototype.create',
    ],
    [
      'a template reading {/__proto__/x}',
      (m: Draft) => (m.operations = { 'items.create': operation({ recordKey: ['{/__proto__/x}'] }) }),
      '/operations/items.create/recordKey/0',
    ],
    [
      'a template naming the parameter {constructor}',
      (m: Draft) => (m.operations = { 'items.create': operation({ path: '/items/{constructor}' }) }),
      '/operations/items.create/path',
    ],
    [
      'a token pointer through constructor',
      (m: Draft) =>
        (m.auth = {
          strategy: 'token-exchange',
          secret: 'token',
          exchange: { path: '/token', body: { secret: '{token}' }, accessToken: ['/constructor/prototype'], expiresIn: ['/expires_in'] },
        }),
      '/auth/exchange/accessToken/0',
    ],
  ])('refuses a manifest with %s, naming its file and JSON path', async (_what, patch, where) => {
    const root = await tempHome();
    await writeConnector(root, 'bad', patch);
    await expect(ConnectorRegistry.load({ extraConnectorDirs: [root] })).rejects.toThrow(/bad\/manifest\.json: .*/);
    await expect(ConnectorRegistry.load({ extraConnectorDirs: [root] })).rejects.toThrow(where);
    await removeHome(root);
  });

  it('loads the same manifest whose pointers only spell a slot inside a longer key', async () => {
    const root = await tempHome();
    await writeConnector(root, 'fine', (m: Draft) => {
      m.verification.identity.id = '/data~1__proto__/constructor_id';
      m.streams = { items: stream({ recordSelector: '/prototypes' }) };
    });
    await expect(ConnectorRegistry.load({ extraConnectorDirs: [root] })).resolves.toBeDefined();
    await removeHome(root);
  });

  it('refuses a credential schema with no writeOnly secret, naming the schema file', async () => {
    const root = await tempHome();
    await writeConnector(root, 'plain', undefined, {
      type: 'object',
      properties: { name: { type: 'string' }, token: { type: 'string' } },
      additionalProperties: false,
    });
    await expect(ConnectorRegistry.load({ extraConnectorDirs: [root] })).rejects.toThrow(/plain\/credential\.schema\.json: .*writeOnly/);
    await removeHome(root);
  });

  it('refuses a credential schema that would store unknown fields', async () => {
    const root = await tempHome();
    await writeConnector(root, 'loose', undefined, {
      type: 'object',
      properties: { name: { type: 'string' }, token: { type: 'string', writeOnly: true } },
    });
    await expect(ConnectorRegistry.load({ extraConnectorDirs: [root] })).rejects.toThrow('/additionalProperties must be false');
    await removeHome(root);
  });

  it('refuses a second connector with an id already taken', async () => {
    const root = await tempHome();
    await writeConnector(root, 'front', (m) => (m.title = 'Impostor'));
    await expect(ConnectorRegistry.load({ extraConnectorDirs: [root] })).rejects.toThrow('connector id "front" is already defined');
    await removeHome(root);
  });

  it('refuses a manifest that is not JSON', async () => {
    const root = await tempHome();
    const dir = await writeConnector(root, 'broken');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${dir}/manifest.json`, '{ "id": ');
    await expect(ConnectorRegistry.load({ extraConnectorDirs: [root] })).rejects.toThrow(/broken\/manifest\.json: is not valid JSON/);
    await removeHome(root);
  });
});

/** A key defined as an own property: `object.__proto__ = x` would set the prototype instead. */
function own(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

function stream(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { path: '/items', recordSelector: '/items', primaryKey: 'id', scopes: [], ...extra };
}

function operation(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { method: 'POST', path: '/items', requestSchema: 'item.schema.json', scopes: [], success: [201], recordKey: ['{/id}'], ...extra };
}
