// Workspaces and roles (issue 11): one tenant's credentials, sources, destinations, syncs and audit
// events are not there for another (404, not 403); roles bound what a caller may do; a token is
// never made above its creator's role. Runs on every store.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { type Access, withAccess } from '../../src/access/access.js';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { NotFoundError } from '../../src/errors.js';
import { type Credport, openCredport } from '../../src/open-credport.js';
import { fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';
import { rawStore, storedBytes, testStoreUri } from '../helpers/test-store.js';

let front: FrontEmulator;
let home: string;
let storeUri: string | undefined;
let credport: Credport;
const token = fakeToken('ws');
const masterKey = randomMasterKey();
const acme: Access = { workspace: 'acme', role: 'admin' };
const globex: Access = { workspace: 'globex', role: 'admin' };
const as = <T>(access: Access, run: () => Promise<T>) => withAccess(access, run);

beforeAll(async () => (front = await new FrontEmulator({ records: 20, tokens: [token] }).start()));
afterAll(() => front.stop());
beforeEach(async () => {
  home = await tempHome();
  storeUri = await testStoreUri();
  credport = await openCredport({ home, storeUri, masterKey, env: { CREDPORT_HTTP_RETRIES: '0' } });
});
afterEach(async () => {
  await credport.close();
  await removeHome(home);
});

/** acme's credential, source and destination. */
async function acmeSetup() {
  return as(acme, async () => {
    const tile = await credport.credentials.create({
      connector: 'front',
      values: { name: 'Acme support', apiKey: token },
      baseUrl: front.url,
    });
    const source = await credport.configs.addSource({ name: 'Acme Front', connector: 'front', credentialId: tile.id, streams: ['tags'] });
    const destination = await credport.configs.addDestination({ name: 'Acme files', connector: 'jsonl', path: join(home, 'acme') });
    return { tile, source, destination };
  });
}

describe('workspaces', () => {
  it("another workspace's credential, source, destination, sync and audit events are not there: every read, write and sync answers not found", async () => {
    const { tile, source, destination } = await acmeSetup();
    expect(tile.workspace).toBe('acme');
    const notThere = (what: string) => expect.objectContaining({ code: 'not_found', message: `no ${what}` });
    await as(globex, async () => {
      expect(await credport.credentials.list()).toEqual([]);
      expect(await credport.configs.listSources()).toEqual([]);
      expect(await credport.configs.listDestinations()).toEqual([]);
      expect(await credport.audit.list()).toEqual([]);
      for (const attempt of [
        () => credport.credentials.show(tile.id),
        () => credport.credentials.test(tile.id),
        () => credport.credentials.update(tile.id, { name: 'Mine now' }),
        () => credport.credentials.rotate(tile.id, { secrets: { apiKey: fakeToken('x') }, verify: false }),
        () => credport.credentials.delete(tile.id, { force: true }),
        () => credport.credentials.client(tile.id),
      ]) {
        await expect(attempt()).rejects.toEqual(notThere(`credential ${tile.id}`));
      }
      await expect(credport.configs.source(source.id)).rejects.toEqual(notThere(`source ${source.id}`));
      await expect(credport.configs.deleteDestination(destination.id)).rejects.toEqual(notThere(`destination ${destination.id}`));
      await expect(credport.syncs.run(source.id, destination.id)).rejects.toEqual(notThere(`source ${source.id}`));
      // Its own source cannot borrow the other's credential either.
      await expect(credport.configs.addSource({ name: 'Borrowed', connector: 'front', credentialId: tile.id })).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });
    // acme's own calls all work, and nothing of globex's attempts changed its records.
    await as(acme, async () => {
      expect(await credport.credentials.show(tile.id)).toEqual(tile);
      expect((await credport.syncs.run(source.id, destination.id)).records).toBe(20);
      expect((await credport.audit.list()).map((e) => e.action)).toEqual(['credential.created', 'credential.used']);
    });
  });

  it('a store from before workspaces is the default workspace: its records are seen there, not elsewhere', async () => {
    const tile = await credport.credentials.create({ connector: 'front', values: { name: 'Old', apiKey: token }, verify: false });
    const raw = await rawStore(home, storeUri);
    const key = `credport:credential:${tile.id}`;
    const stored = JSON.parse((await raw.get(key))!) as { value: Record<string, unknown> };
    delete stored.value.workspace; // as an older credport wrote it
    await raw.set(key, JSON.stringify(stored));
    await raw.close();
    expect((await credport.credentials.list()).map((t) => t.id)).toEqual([tile.id]);
    expect(await as(acme, () => credport.credentials.list())).toEqual([]);
  });
});

describe("one workspace cannot reach another's records, files or the operator's master key", () => {
  it("one workspace's damaged record neither fails another's listing nor shows its id there, and cannot be deleted from there", async () => {
    const { tile } = await acmeSetup();
    const raw = await rawStore(home, storeUri);
    const key = `credport:credential:${tile.id}`;
    const stored = JSON.parse((await raw.get(key))!) as { value: Record<string, unknown> };
    stored.value.v = 2; // no longer a record this credport reads
    await raw.set(key, JSON.stringify(stored));
    await raw.close();
    await as(globex, async () => {
      expect(await credport.credentials.list()).toEqual([]);
      await expect(credport.credentials.delete(tile.id, { force: true })).rejects.toMatchObject({ code: 'not_found' });
      // Its own credentials, by connector, past the damaged one it must not see.
      const own = await credport.credentials.create({ connector: 'front', values: { name: 'G', apiKey: fakeToken('g') }, verify: false });
      const line = await credport.credentials.create({
        connector: 'frontline',
        values: { name: 'L', apiKey: 'frontline-key-0123456789' },
        verify: false,
      });
      expect((await credport.credentials.list()).map((t) => t.id).sort()).toEqual([own.id, line.id].sort());
      expect((await credport.credentials.list({ connector: 'front' })).map((t) => t.id)).toEqual([own.id]);
      expect((await credport.credentials.list({ connector: 'frontline' })).map((t) => t.id)).toEqual([line.id]);
    });
    // The operator's workspace still hears of it, by name, and may delete it.
    await expect(credport.credentials.list()).rejects.toMatchObject({ code: 'corrupt_record', message: expect.stringContaining(tile.id) });
    await credport.credentials.delete(tile.id, { force: true });
  });

  it('a record moved to another workspace in the store no longer opens: the workspace is sealed with the secret', async () => {
    const { tile } = await acmeSetup();
    const raw = await rawStore(home, storeUri);
    const key = `credport:credential:${tile.id}`;
    const stored = JSON.parse((await raw.get(key))!) as { value: Record<string, unknown> };
    stored.value.workspace = 'globex';
    await raw.set(key, JSON.stringify(stored));
    await raw.close();
    await expect(as(globex, () => credport.credentials.client(tile.id))).rejects.toMatchObject({ code: 'corrupt_record', exitCode: 5 });
  });

  it("a tenant's JSONL sources and destinations stay inside its workspace's folder, links resolved; the operator's do not", async () => {
    const { mkdir, symlink, writeFile } = await import('node:fs/promises');
    const tenant: Access = { workspace: 'acme', role: 'editor', confined: true };
    const root = join(home, 'workspaces', 'acme');
    const outside = (p: string) =>
      expect(as(tenant, () => credport.configs.addDestination({ name: 'x', connector: 'jsonl', path: p }))).rejects.toMatchObject({
        code: 'forbidden',
        message: 'a JSONL path of a workspace token must be inside its workspace folder (give it relative to that folder)',
      });
    await outside(join(home, 'acme-elsewhere'));
    await outside(join(root, '..', 'globex'));
    await outside('/etc');
    await expect(
      as(tenant, () => credport.configs.addSource({ name: 'x', connector: 'jsonl', path: '/etc/passwd' })),
    ).rejects.toMatchObject({ code: 'forbidden' });
    // A link inside the folder that points out of it is refused too.
    await mkdir(join(home, 'secret-out'), { recursive: true });
    await writeFile(join(home, 'secret-out', 'tags.jsonl'), '{"id":"1"}\n');
    await mkdir(root, { recursive: true });
    await symlink(join(home, 'secret-out'), join(root, 'link'));
    const link = await as(tenant, () => credport.configs.addSource({ name: 'x', connector: 'jsonl', path: join(root, 'link') })).catch(
      (e: Error) => e,
    );
    expect(link).toMatchObject({
      code: 'forbidden',
      message: "link leads outside the workspace folder (a symbolic link); a workspace token's JSONL files stay inside it",
    });
    // A tenant gives its paths relative to its folder, and is shown them so (never the server's own paths).
    const relative = await as(tenant, () => credport.configs.addDestination({ name: 'rel', connector: 'jsonl', path: 'out' }));
    expect(relative.path).toBe(join(root, 'out'));
    expect((await as(tenant, async () => credport.configs.shown(relative))).path).toBe('out');
    expect(credport.configs.shown(relative).path).toBe(join(root, 'out'));
    // Inside is fine, and the default destination folder is the workspace's.
    const dst = await as(tenant, () => credport.configs.addDestination({ name: 'mine', connector: 'jsonl' }));
    expect(dst.path?.startsWith(join(root, 'destinations'))).toBe(true);
    expect((await credport.configs.addDestination({ name: 'operator', connector: 'jsonl', path: join(home, 'anywhere') })).path).toBe(
      join(home, 'anywhere'),
    );
  });

  it("the master key status and rotation are the operator's, not a tenant admin's", async () => {
    await expect(as(acme, () => credport.keys.status())).rejects.toMatchObject({
      code: 'forbidden',
      message: 'reading the master key status is for the operator (the default workspace), not workspace acme',
    });
    await expect(as(acme, () => credport.keys.rotate())).rejects.toMatchObject({
      code: 'forbidden',
      message: 'rotating the master key is for the operator (the default workspace), not workspace acme',
    });
    await expect(as({ workspace: 'acme', role: 'editor' }, () => credport.keys.rotate())).rejects.toMatchObject({
      message: 'rotating the master key needs the admin role; this caller is an editor of workspace acme',
    });
    expect((await credport.keys.status()).key).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('roles', () => {
  it('a viewer sees tiles; an editor adds, tests, rotates and syncs but cannot delete; an admin deletes', async () => {
    const { tile, source, destination } = await acmeSetup();
    const viewer: Access = { workspace: 'acme', role: 'viewer' };
    const editor: Access = { workspace: 'acme', role: 'editor' };
    const forbidden = (needed: string, doing: string, role: string) =>
      expect.objectContaining({
        code: 'forbidden',
        exitCode: 2,
        message: `${doing} needs the ${needed} role; this caller is ${role === 'viewer' ? 'a' : 'an'} ${role} of workspace acme`,
      });
    await as(viewer, async () => {
      expect((await credport.credentials.list()).map((t) => t.id)).toEqual([tile.id]);
      expect(await credport.credentials.show(tile.id)).toMatchObject({ id: tile.id });
      await expect(
        credport.credentials.create({ connector: 'front', values: { name: 'x', apiKey: fakeToken() }, verify: false }),
      ).rejects.toEqual(forbidden('editor', 'adding a credential', 'viewer'));
      await expect(credport.credentials.test(tile.id)).rejects.toEqual(forbidden('editor', 'testing a credential', 'viewer'));
      await expect(credport.syncs.run(source.id, destination.id)).rejects.toEqual(forbidden('editor', 'running a sync', 'viewer'));
      await expect(credport.credentials.rotate(tile.id, { secrets: { apiKey: fakeToken() }, verify: false })).rejects.toEqual(
        forbidden('editor', 'rotating a credential', 'viewer'),
      );
      await expect(credport.credentials.update(tile.id, { name: 'x' })).rejects.toEqual(
        forbidden('editor', 'renaming a credential', 'viewer'),
      );
      await expect(credport.credentials.client(tile.id)).rejects.toEqual(forbidden('editor', 'using a credential', 'viewer'));
      await expect(credport.configs.addSource({ name: 'x', connector: 'front', credentialId: tile.id, streams: ['tags'] })).rejects.toEqual(
        forbidden('editor', 'adding a source', 'viewer'),
      );
      await expect(credport.configs.addDestination({ name: 'x', connector: 'jsonl', path: 'x' })).rejects.toEqual(
        forbidden('editor', 'adding a destination', 'viewer'),
      );
    });
    await as(editor, async () => {
      await credport.credentials.test(tile.id);
      await credport.credentials.update(tile.id, { description: 'edited' });
      expect((await credport.syncs.run(source.id, destination.id)).records).toBe(20);
      await expect(credport.credentials.delete(tile.id, { force: true })).rejects.toEqual(
        forbidden('admin', 'deleting a credential', 'editor'),
      );
      await expect(credport.configs.deleteSource(source.id)).rejects.toEqual(forbidden('admin', 'deleting a source', 'editor'));
      await expect(credport.configs.deleteDestination(destination.id)).rejects.toEqual(
        forbidden('admin', 'deleting a destination', 'editor'),
      );
    });
    await as(acme, () => credport.credentials.delete(tile.id, { force: true }));
    expect(await as(acme, () => credport.credentials.list())).toEqual([]);
  });

  it('API tokens: only an admin makes them, never above its own role, in its own workspace; only a hash is stored; a revoked one is refused', async () => {
    const made = await as(acme, () => credport.tokens.create({ name: 'ci', role: 'editor' }));
    expect(made).toMatchObject({ workspace: 'acme', role: 'editor', name: 'ci', id: expect.stringMatching(/^tok_[0-9a-f]{16}$/) });
    expect(await credport.tokens.find(made.token!)).toEqual({ id: made.id, workspace: 'acme', role: 'editor' });
    // One character off (never the same one: a random token ends in A one time in 64).
    expect(await credport.tokens.find(`${made.token!.slice(0, -1)}${made.token!.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    // An editor (the token just made) cannot make one, of any role; nor see or revoke them.
    const editor: Access = { workspace: 'acme', role: 'editor' };
    for (const role of ['viewer', 'editor', 'admin'] as const) {
      await expect(as(editor, () => credport.tokens.create({ name: 'escalate', role }))).rejects.toMatchObject({ code: 'forbidden' });
    }
    await expect(as(editor, () => credport.tokens.list())).rejects.toMatchObject({ code: 'forbidden' });
    // Another workspace's admin does not see or revoke acme's tokens.
    expect(await as(globex, () => credport.tokens.list())).toEqual([]);
    await expect(as(globex, () => credport.tokens.revoke(made.id))).rejects.toMatchObject({ code: 'not_found' });
    expect((await storedBytes(home, storeUri)).includes(made.token!)).toBe(false);
    expect(await as(acme, () => credport.tokens.list())).toEqual([expect.objectContaining({ id: made.id, role: 'editor' })]);
    expect(await as(acme, () => credport.tokens.list())).not.toContainEqual(expect.objectContaining({ token: expect.anything() }));
    await as(acme, () => credport.tokens.revoke(made.id));
    expect(await credport.tokens.find(made.token!)).toBeUndefined();
  });
});
