import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { InputError } from '../../src/errors.js';
import { openCredport, type Credport } from '../../src/open-credport.js';
import { fakeToken, removeHome, tempHome } from '../helpers/temp-home.js';
import { testStoreUri } from '../helpers/test-store.js';

let home: string;
let storeUri: string | undefined;
let credport: Credport;
let credentialId: string;

beforeEach(async () => {
  home = await tempHome();
  storeUri = await testStoreUri();
  credport = await openCredport({ home, storeUri, env: { CREDPORT_HTTP_RETRIES: '0' } });
  credentialId = (await credport.credentials.create({ connector: 'front', values: { name: 'Front', apiKey: fakeToken() }, verify: false })).id;
});
afterEach(async () => {
  await credport.close();
  await removeHome(home);
});

const destination = (extra: string) =>
  credport.configs.addDestination({ name: 'Front', connector: 'front', credentialId, ...(JSON.parse(`{${extra}}`) as object) });

describe('destination maps from a caller (issue 13, item 3): odd keys are refused by their own name, nothing saved', () => {
  it.each([
    ['an own "__proto__" stream in operations', '"operations": {"contacts": "contacts.create", "__proto__": "tags.create"}', 'operations', '__proto__'],
    ['a "constructor" stream in operations', '"operations": {"contacts": "contacts.create", "constructor": "tags.create"}', 'operations', 'constructor'],
    ['an own "__proto__" parameter', '"operations": {"contacts": "contacts.create"}, "params": {"inbox_id": "inb_1", "__proto__": "x"}', 'params', '__proto__'],
    ['a "prototype" parameter', '"operations": {"contacts": "contacts.create"}, "params": {"prototype": "x"}', 'params', 'prototype'],
    ['a mapping for "constructor", a stream without an operation', '"operations": {"contacts": "contacts.create"}, "mapping": {"constructor": {"/name": "/n"}}', 'mapping', 'constructor'],
    ['a mapping for "toString", a stream without an operation', '"operations": {"contacts": "contacts.create"}, "mapping": {"toString": {"/name": "/n"}}', 'mapping', 'toString'],
    ['an own "__proto__" stream in the mapping', '"operations": {"contacts": "contacts.create"}, "mapping": {"__proto__": {"/name": "/n"}}', 'mapping', '__proto__'],
    ['an own "__proto__" entry in a stream mapping', '"operations": {"contacts": "contacts.create"}, "mapping": {"contacts": {"__proto__": "/n"}}', 'mapping', '__proto__'],
  ])('refuses %s', async (_what, extra, field, key) => {
    const error = await destination(extra).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ field, exitCode: 2 });
    expect((error as Error).message).toContain(`"${key}"`);
    expect(await credport.configs.listDestinations()).toEqual([]);
  });

  it('refuses a map that is not an object of strings, naming the field, instead of failing inside', async () => {
    await expect(destination('"operations": {"contacts": {"op": "contacts.create"}}')).rejects.toMatchObject({ field: 'operations', exitCode: 2 });
    await expect(destination('"operations": {"contacts": "contacts.create"}, "mapping": "contacts"')).rejects.toMatchObject({ field: 'mapping', exitCode: 2 });
    expect(await credport.configs.listDestinations()).toEqual([]);
  });

  it('saves ordinary maps as plain data, read back as saved', async () => {
    const saved = await destination('"operations": {"contacts": "contacts.create"}, "params": {"inbox_id": "inb_1"}, "mapping": {"contacts": {"/name": "/full_name"}}');
    expect(saved).toMatchObject({ operations: { contacts: 'contacts.create' }, params: { inbox_id: 'inb_1' }, mapping: { contacts: { '/name': '/full_name' } } });
    expect(await credport.configs.destination(saved.id)).toEqual(saved);
  });
});
