import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  credentialId = (await credport.credentials.create({ connector: 'front', values: { name: 'Front', apiKey: fakeToken() }, verify: false }))
    .id;
});
afterEach(async () => {
  await credport.close();
  await removeHome(home);
});

const destination = (extra: string) =>
  credport.configs.addDestination({ name: 'Front', connector: 'front', credentialId, ...(JSON.parse(`{${extra}}`) as object) });

/** What the request schema says of a key naming a prototype slot, and of a mapping entry that is no JSON pointer or has such a segment. */
const PROTOTYPE_KEY = "must not be __proto__, constructor or prototype (they name members of every object's prototype)";
const POINTER = 'must be a JSON pointer (/field/sub, with ~0 for "~" and ~1 for "/") without a __proto__, constructor or prototype segment';

describe('destination maps from a caller: odd keys are refused by their own name, nothing saved', () => {
  it.each([
    [
      'an own "__proto__" stream in operations',
      '"operations": {"contacts": "contacts.create", "__proto__": "tags.create"}',
      '/operations/__proto__',
      '__proto__',
    ],
    [
      'a "constructor" stream in operations',
      '"operations": {"contacts": "contacts.create", "constructor": "tags.create"}',
      '/operations/constructor',
      'constructor',
    ],
    [
      'an own "__proto__" parameter',
      '"operations": {"contacts": "contacts.create"}, "params": {"inbox_id": "inb_1", "__proto__": "x"}',
      '/params/__proto__',
      '__proto__',
    ],
    [
      'a "prototype" parameter',
      '"operations": {"contacts": "contacts.create"}, "params": {"prototype": "x"}',
      '/params/prototype',
      'prototype',
    ],
    [
      'a mapping for "constructor", a stream without an operation',
      '"operations": {"contacts": "contacts.create"}, "mapping": {"constructor": {"/name": "/n"}}',
      '/mapping/constructor',
      'constructor',
    ],
    [
      'a mapping for "toString", a stream without an operation',
      '"operations": {"contacts": "contacts.create"}, "mapping": {"toString": {"/name": "/n"}}',
      'mapping',
      'toString',
    ],
    [
      'an own "__proto__" stream in the mapping',
      '"operations": {"contacts": "contacts.create"}, "mapping": {"__proto__": {"/name": "/n"}}',
      '/mapping/__proto__',
      '__proto__',
    ],
    [
      'an own "__proto__" entry in a stream mapping',
      '"operations": {"contacts": "contacts.create"}, "mapping": {"contacts": {"__proto__": "/n"}}',
      '/mapping/contacts/__proto__',
      '__proto__',
    ],
  ])('refuses %s', async (_what, extra, field, key) => {
    const error = await destination(extra).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ field, exitCode: 2 });
    expect((error as Error).message).toContain(key);
    expect(await credport.configs.listDestinations()).toEqual([]);
  });

  it('names what a refused key was meant to be', async () => {
    await expect(destination('"operations": {"constructor": "tags.create"}')).rejects.toThrow(`/operations/constructor ${PROTOTYPE_KEY}`);
    await expect(destination('"operations": {"tags": "tags.create"}, "params": {"prototype": "x"}')).rejects.toThrow(
      `/params/prototype ${PROTOTYPE_KEY}`,
    );
    await expect(destination('"operations": {"tags": "tags.create"}, "mapping": {"__proto__": {}}')).rejects.toThrow(
      `/mapping/__proto__ ${PROTOTYPE_KEY}`,
    );
    await expect(destination('"operations": {"tags": "tags.create"}, "mapping": {"tags": {"constructor": "/x"}}')).rejects.toThrow(
      `/mapping/tags/constructor ${POINTER}`,
    );
    await expect(destination('"operations": {"tags": 5}')).rejects.toThrow('/operations/tags must be a string');
    await expect(destination('"operations": {"tags": "tags.create"}, "mapping": {"tags": "x"}')).rejects.toThrow(
      '/mapping/tags must be an object',
    );
    await expect(destination('"operations": ["tags.create"]')).rejects.toThrow('operations must be an object');
  });

  it('refuses a map that is not an object of strings, naming the field, instead of failing inside', async () => {
    await expect(destination('"operations": {"contacts": {"op": "contacts.create"}}')).rejects.toMatchObject({
      field: '/operations/contacts',
      exitCode: 2,
    });
    await expect(destination('"operations": {"contacts": "contacts.create"}, "mapping": "contacts"')).rejects.toMatchObject({
      field: 'mapping',
      exitCode: 2,
    });
    expect(await credport.configs.listDestinations()).toEqual([]);
  });

  it('saves ordinary maps as plain data, read back as saved', async () => {
    const saved = await destination(
      '"operations": {"contacts": "contacts.create"}, "params": {"inbox_id": "inb_1"}, "mapping": {"contacts": {"/name": "/full_name"}}',
    );
    expect(saved).toMatchObject({
      operations: { contacts: 'contacts.create' },
      params: { inbox_id: 'inb_1' },
      mapping: { contacts: { '/name': '/full_name' } },
    });
    expect(await credport.configs.destination(saved.id)).toEqual(saved);
  });
});

describe('mapping pointers and stream names that reach a prototype slot: refused by the service, whoever calls it', () => {
  it.each([
    ['/__proto__/baseUrl', '/name', '/mapping/tags/~1__proto__~1baseUrl', ' (found the segment "__proto__")'],
    ['/constructor/prototype/baseUrl', '/name', '/mapping/tags/~1constructor~1prototype~1baseUrl', ' (found the segment "constructor")'],
    ['/a/prototype', '/name', '/mapping/tags/~1a~1prototype', ' (found the segment "prototype")'],
    ['/name', '/__proto__', '/mapping/tags/~1name', ' (found the segment "__proto__")'],
    ['/name', '/x/constructor/prototype', '/mapping/tags/~1name', ' (found the segment "constructor")'],
    ['/name', '/a~2', '/mapping/tags/~1name', ''],
  ])('refuses the entry %j: %j, naming it by its pointer in the body', async (target, source, field, found) => {
    const error = await credport.configs
      .addDestination({
        name: 'D',
        connector: 'front',
        credentialId,
        operations: { tags: 'tags.create' },
        mapping: { tags: { '/name': '/name', [target]: source } },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ field, exitCode: 2 });
    expect((error as Error).message).toBe(`${field} ${POINTER}${found}`);
    expect(await credport.configs.listDestinations()).toEqual([]);
    expect(({} as { baseUrl?: unknown }).baseUrl).toBeUndefined();
  });

  it('refuses a stream named like a prototype slot, given or found as a file, for a source too', async () => {
    const folder = join(home, 'slots');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'tags.jsonl'), '{"name":"a"}\n');
    await writeFile(join(folder, '__proto__.jsonl'), '{"name":"b"}\n');
    await expect(credport.configs.addSource({ name: 'S', connector: 'jsonl', path: folder })).rejects.toMatchObject({
      field: 'streams',
      message: '"__proto__" cannot be a stream name (streams)',
    });
    await expect(
      credport.configs.addSource({ name: 'S', connector: 'jsonl', path: folder, streams: ['tags', '__proto__'] }),
    ).rejects.toMatchObject({ field: '/streams/1' });
    await expect(
      credport.configs.addSource({ name: 'S', connector: 'front', credentialId, streams: ['constructor'] }),
    ).rejects.toMatchObject({ field: '/streams/0', message: `/streams/0 ${PROTOTYPE_KEY}` });
    expect(await credport.configs.listSources()).toEqual([]);
    // Only the file that is a slot's name is in the way: the rest of the folder can still be picked.
    expect(await credport.configs.addSource({ name: 'S', connector: 'jsonl', path: folder, streams: ['tags'] })).toMatchObject({
      streams: ['tags'],
    });
  });
});

describe('a source or destination that cannot work is refused by field and reason, and nothing is saved', () => {
  let folder: string;
  let frontline: string;
  beforeEach(async () => {
    folder = join(home, 'in');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'tags.jsonl'), '{"name":"a"}\n');
    await writeFile(join(folder, 'contacts.jsonl'), '');
    await writeFile(join(folder, 'notes.txt'), 'not a stream');
    frontline = (
      await credport.credentials.create({
        connector: 'frontline',
        values: { name: 'Line', apiKey: 'frontline-key-0123456789' },
        verify: false,
      })
    ).id;
  });

  const refusals: [string, () => Promise<unknown>, string, string][] = [
    [
      'a provider source without a credential',
      () => credport.configs.addSource({ name: 'S', connector: 'front', streams: ['tags'] }),
      'credentialId',
      'a front source needs a credential (--credential <id>)',
    ],
    [
      'a provider source given a path',
      () => credport.configs.addSource({ name: 'S', connector: 'front', credentialId, path: '/tmp' }),
      'path',
      'path is for jsonl sources; a front source reads its streams from the provider',
    ],
    [
      "a provider source with another connector's credential",
      () => credport.configs.addSource({ name: 'S', connector: 'front', credentialId: frontline }),
      'credentialId',
      'is a frontline credential; a front source needs a front credential',
    ],
    [
      'a source of a stream its credential cannot read',
      () => credport.configs.addSource({ name: 'S', connector: 'frontline', credentialId: frontline, streams: ['tasks'] }),
      'credentialId',
      '") has no keyType (verify it with: credport credentials test cred_',
    ],
    [
      'a provider source with an unknown stream',
      () => credport.configs.addSource({ name: 'S', connector: 'front', credentialId, streams: ['tags', 'nope'] }),
      'streams',
      'unknown stream "nope" for front (streams: ',
    ],
    [
      'a jsonl source given a credential',
      () => credport.configs.addSource({ name: 'S', connector: 'jsonl', path: folder, credentialId }),
      'credentialId',
      'a jsonl source reads local files and takes no credential',
    ],
    [
      'a jsonl source without a path',
      () => credport.configs.addSource({ name: 'S', connector: 'jsonl' }),
      'path',
      'a jsonl source needs --path <folder or file>',
    ],
    [
      'a jsonl source whose path is not there',
      () => credport.configs.addSource({ name: 'S', connector: 'jsonl', path: join(home, 'gone') }),
      'path',
      'no such file or folder: /',
    ],
    [
      'a jsonl source of a folder without .jsonl files',
      () => credport.configs.addSource({ name: 'S', connector: 'jsonl', path: join(folder, '..') }),
      'streams',
      'has no streams to read',
    ],
    [
      'a source with a blank name',
      () => credport.configs.addSource({ name: '  ', connector: 'jsonl', path: folder }),
      'name',
      'name must be 1-100 characters without control characters',
    ],
    [
      'a source with a control character in its name',
      () => credport.configs.addSource({ name: 'a\u0007b', connector: 'jsonl', path: folder }),
      'name',
      'name must not contain control characters, line breaks or text-direction overrides, nor invisible characters such as zero-width spaces (found U+0007)',
    ],
    [
      'a jsonl destination given operations',
      () => credport.configs.addDestination({ name: 'D', connector: 'jsonl', operations: { tags: 'tags.create' } }),
      'operations',
      'a jsonl destination writes files: it takes no operations, mapping or parameters',
    ],
    [
      'a jsonl destination given parameters',
      () => credport.configs.addDestination({ name: 'D', connector: 'jsonl', params: { a: 'b' } }),
      'operations',
      'a jsonl destination writes files',
    ],
    [
      'a jsonl destination given a mapping',
      () => credport.configs.addDestination({ name: 'D', connector: 'jsonl', mapping: {} }),
      'operations',
      'a jsonl destination writes files',
    ],
    [
      'a provider destination without a credential',
      () => credport.configs.addDestination({ name: 'D', connector: 'front', operations: { tags: 'tags.create' } }),
      'credentialId',
      'a front destination needs a credential (--credential <id>)',
    ],
    [
      "a provider destination with another connector's credential",
      () =>
        credport.configs.addDestination({ name: 'D', connector: 'front', credentialId: frontline, operations: { tags: 'tags.create' } }),
      'credentialId',
      'is a frontline credential; a front destination needs a front credential',
    ],
    [
      'a connector that writes nothing',
      () => credport.configs.addDestination({ name: 'D', connector: 'frontline', credentialId: frontline, operations: { a: 'b' } }),
      'connector',
      'connector frontline has no write operations',
    ],
    [
      'a provider destination without operations',
      () => credport.configs.addDestination({ name: 'D', connector: 'front', credentialId }),
      'operations',
      'say which operation each stream goes to, e.g. --operation contacts=contacts.create (operations: contacts.create, ',
    ],
    [
      'an unknown operation',
      () => credport.configs.addDestination({ name: 'D', connector: 'front', credentialId, operations: { tags: 'tags.destroy' } }),
      'operations',
      'unknown operation "tags.destroy" for stream tags (operations: contacts.create, ',
    ],
    [
      'an operation without its path parameter',
      () =>
        credport.configs.addDestination({
          name: 'D',
          connector: 'front',
          credentialId,
          operations: { messages: 'messages.import' },
          params: { inbox_id: '' },
        }),
      'params',
      'operation messages.import needs the parameter inbox_id (--param inbox_id=<value>)',
    ],
    [
      'a parameter that is no path segment',
      () =>
        credport.configs.addDestination({
          name: 'D',
          connector: 'front',
          credentialId,
          operations: { messages: 'messages.import' },
          params: { inbox_id: '..' },
        }),
      'params',
      'parameter inbox_id: ".." cannot be a path segment',
    ],
    [
      'a mapping entry that is no JSON pointer',
      () =>
        credport.configs.addDestination({
          name: 'D',
          connector: 'front',
          credentialId,
          operations: { tags: 'tags.create' },
          mapping: { tags: { '/name': 'title' } },
        }),
      '/mapping/tags/~1name',
      `/mapping/tags/~1name ${POINTER}`,
    ],
    [
      'a mapping target that is no JSON pointer',
      () =>
        credport.configs.addDestination({
          name: 'D',
          connector: 'front',
          credentialId,
          operations: { tags: 'tags.create' },
          mapping: { tags: { name: '/title' } },
        }),
      '/mapping/tags/name',
      `/mapping/tags/name ${POINTER}`,
    ],
    [
      'a mapping of a stream without an operation',
      () =>
        credport.configs.addDestination({
          name: 'D',
          connector: 'front',
          credentialId,
          operations: { tags: 'tags.create' },
          mapping: { contacts: { '/name': '/n' } },
        }),
      'mapping',
      'the mapping names stream "contacts", which has no operation',
    ],
  ];

  it('names the stream, the credential and the key it needs', async () => {
    await expect(
      credport.configs.addSource({ name: 'S', connector: 'frontline', credentialId: frontline, streams: ['tasks'] }),
    ).rejects.toThrow(
      `Frontline stream tasks needs a credential whose keyType is USER, but credential ${frontline} ("Line") has no keyType (verify it with: credport credentials test ${frontline}): use a USER (personal) API key`,
    );
  });

  it.each(refusals)('refuses %s', async (_what, add, field, message) => {
    const error = await add().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ field, exitCode: 2 });
    expect((error as Error).message).toContain(message);
    expect(await credport.configs.listSources()).toEqual([]);
    expect(await credport.configs.listDestinations()).toEqual([]);
  });

  it("reads a folder's .jsonl files as its streams (sorted), a file as one stream, and saves only what it was given", async () => {
    const all = await credport.configs.addSource({ name: ' Files ', connector: 'jsonl', path: folder });
    expect(all).toMatchObject({ name: 'Files', streams: ['contacts', 'tags'], path: folder });
    expect(all).not.toHaveProperty('concurrency');
    // A stream named twice is refused by name (it was once quietly made one; a sync read it twice).
    await expect(
      credport.configs.addSource({ name: 'One', connector: 'jsonl', path: join(folder, 'tags.jsonl'), streams: ['tags', 'tags'] }),
    ).rejects.toMatchObject({ field: 'streams', message: 'stream "tags" is named more than once in streams; name each stream once' });
    const one = await credport.configs.addSource({
      name: 'One',
      connector: 'jsonl',
      path: join(folder, 'tags.jsonl'),
      streams: ['tags'],
      concurrency: 2,
    });
    expect(one).toMatchObject({ streams: ['tags'], concurrency: 2 });
    const dst = await credport.configs.addDestination({
      name: 'Front',
      connector: 'front',
      credentialId,
      operations: { tags: 'tags.create' },
    });
    expect(dst).not.toHaveProperty('mapping');
    expect(dst).not.toHaveProperty('params');
    const files = await credport.configs.addDestination({ name: 'Out', connector: 'jsonl', credentialId });
    expect(files).toMatchObject({ connector: 'jsonl', credentialId, path: join(home, 'destinations', files.id) });
    await expect(
      credport.configs.addDestination({ name: 'Out', connector: 'jsonl', credentialId: 'cred_0000000000000000' }),
    ).rejects.toMatchObject({ code: 'not_found' });
    // Listed oldest first; deleted by id.
    expect((await credport.configs.listSources()).map((x) => x.id)).toEqual([all.id, one.id]);
    expect(await credport.configs.deleteSource(all.id)).toEqual({ id: all.id, deleted: true });
    expect(await credport.configs.deleteDestination(dst.id)).toEqual({ id: dst.id, deleted: true });
    expect((await credport.configs.listDestinations()).map((x) => x.id)).toEqual([files.id]);
    expect(await credport.credentials.delete(credentialId).catch((e: Error) => e.message)).toBe(
      `credential ${credentialId} is used by destination "Out" (${files.id}): delete those first, or force it`,
    );
  });

  it('a sync of streams the source does not read, or the destination does not write, is refused before anything runs', async () => {
    const source = await credport.configs.addSource({ name: 'S', connector: 'front', credentialId, streams: ['tags', 'contacts'] });
    const dst = await credport.configs.addDestination({ name: 'D', connector: 'front', credentialId, operations: { tags: 'tags.create' } });
    await expect(credport.syncs.run(source.id, dst.id)).rejects.toMatchObject({
      field: 'streams',
      message: `destination ${dst.id} has no operation for stream contacts (it writes: tags); pick streams with --streams`,
    });
    await expect(credport.syncs.run(source.id, dst.id, { streams: ['accounts'] })).rejects.toMatchObject({
      field: 'streams',
      message: `source ${source.id} does not read "accounts" (its streams: tags, contacts)`,
    });
  });

  it('lists sources and destinations by when they were made, then by id, whatever order the store keeps', async () => {
    const deps = (
      credport.configs as unknown as {
        deps: { sources: { put(id: string, v: unknown): Promise<void> }; destinations: { put(id: string, v: unknown): Promise<void> } };
      }
    ).deps;
    const made = [
      ['src_bbbbbbbbbbbbbbbbbbbb', '2026-01-02T00:00:00.000Z'],
      ['src_aaaaaaaaaaaaaaaaaaaa', '2026-01-02T00:00:00.000Z'],
      ['src_cccccccccccccccccccc', '2026-01-01T00:00:00.000Z'],
      ['src_dddddddddddddddddddd', '2026-01-03T00:00:00.000Z'],
    ];
    for (const [id, createdAt] of made) {
      await deps.sources.put(id!, { id, workspace: 'default', name: id, connector: 'jsonl', path: folder, streams: ['tags'], createdAt });
      await deps.destinations.put(id!.replace('src_', 'dst_'), {
        id: id!.replace('src_', 'dst_'),
        workspace: 'default',
        name: id,
        connector: 'jsonl',
        path: folder,
        createdAt,
      });
    }
    const order = ['src_cccccccccccccccccccc', 'src_aaaaaaaaaaaaaaaaaaaa', 'src_bbbbbbbbbbbbbbbbbbbb', 'src_dddddddddddddddddddd'];
    expect((await credport.configs.listSources()).map((x) => x.id)).toEqual(order);
    expect((await credport.configs.listDestinations()).map((x) => x.id)).toEqual(order.map((id) => id.replace('src_', 'dst_')));
  });

  it('makes ids of 20 hex digits, and finds none for an id of another shape', async () => {
    const source = await credport.configs.addSource({ name: 'S', connector: 'jsonl', path: folder });
    const dst = await credport.configs.addDestination({ name: 'D', connector: 'jsonl' });
    expect(source.id).toMatch(/^src_[0-9a-f]{20}$/);
    expect(dst.id).toMatch(/^dst_[0-9a-f]{20}$/);
    for (const id of ['src_x', `${source.id}/..`, 'dst_0000000000000000000000000000000000'])
      await expect(credport.configs.source(id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(credport.configs.destination('dst_x')).rejects.toThrow('no destination dst_x');
    await expect(credport.configs.source(dst.id)).rejects.toThrow(`no source ${dst.id}`);
    await expect(credport.configs.deleteSource('src_00000000000000000000')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a destination saved with an operation its connector no longer has is refused when it syncs, naming both', async () => {
    const source = await credport.configs.addSource({ name: 'S', connector: 'jsonl', path: folder, streams: ['tags'] });
    const dst = await credport.configs.addDestination({ name: 'D', connector: 'front', credentialId, operations: { tags: 'tags.create' } });
    const deps = (credport.configs as unknown as { deps: { destinations: { put(id: string, v: unknown): Promise<void> } } }).deps;
    await deps.destinations.put(dst.id, { ...dst, operations: { tags: 'tags.merge' } }); // written by a release whose manifest had it
    await expect(credport.syncs.run(source.id, dst.id)).rejects.toMatchObject({
      field: 'operations',
      message: expect.stringMatching(new RegExp(`^destination ${dst.id} names operation tags.merge, which front no longer has$`)),
    });
  });
});
