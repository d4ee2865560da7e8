import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { AccessScope, checkWorkspace, outranks, withAccess } from '../../src/access/access.js';
import { type AccessToken, AccessTokens } from '../../src/access/access-tokens.js';
import { openKeyv, type OpenedKeyv } from '../../src/store/open-keyv.js';
import { Collection } from '../../src/store/collection.js';
import { StoreError } from '../../src/errors.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

describe('workspace names and roles', () => {
  it('takes lowercase names of letters, digits and dashes, up to 63, and names what is wrong otherwise', () => {
    for (const good of ['default', 'acme', 'a', 'acme-eu-2', 'x'.repeat(63)]) expect(checkWorkspace(good)).toBe(good);
    for (const bad of ['', 'Acme', '-acme', 'acme_eu', 'a b', '../x', '*', 'x'.repeat(64)]) {
      expect(() => checkWorkspace(bad)).toThrow(
        expect.objectContaining({
          field: 'workspace',
          message: `"${bad.slice(0, 70)}" is not a workspace name: lowercase letters, digits and -, at most 63`,
        }),
      );
    }
  });

  it('ranks viewer < editor < admin', () => {
    expect([outranks('admin', 'editor'), outranks('editor', 'editor'), outranks('editor', 'admin'), outranks('viewer', 'editor')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  it('a listing that meets a damaged record: the default workspace hears of it, another skips it and sees only its own', async () => {
    const scope = new AccessScope();
    const damaged = new StoreError('corrupt_record', 'credential cred_x in the store is damaged');
    const rows: [string, { workspace?: string } | Error][] = [
      ['a', { workspace: 'acme' }],
      ['x', damaged],
      ['g', { workspace: 'globex' }],
      ['o', {}],
    ];
    const read = async () => Promise.reject(damaged);
    const readAll = async () => rows;
    await expect(scope.listing(read, readAll)).rejects.toBe(damaged);
    expect(await withAccess({ workspace: 'acme', role: 'viewer' }, () => scope.listing(read, readAll))).toEqual([{ workspace: 'acme' }]);
    await expect(
      withAccess({ workspace: 'acme', role: 'viewer' }, () => scope.listing(async () => Promise.reject(new Error('disk')), readAll)),
    ).rejects.toThrow('disk');
    expect(
      await withAccess({ workspace: 'acme', role: 'viewer' }, () =>
        scope.listing(async () => [{ workspace: 'acme' }, { workspace: 'globex' }, {}], readAll),
      ),
    ).toEqual([{ workspace: 'acme' }]);
  });
});

describe('API tokens', () => {
  let home: string;
  let opened: OpenedKeyv;
  let tokens: AccessTokens;
  const admin = { workspace: 'acme', role: 'admin' } as const;
  beforeEach(async () => {
    home = await tempHome();
    opened = await openKeyv(`sqlite://${home}/store.sqlite`);
    // A clock a millisecond on at each token: the listing's order is the order they were made in.
    let at = Date.parse('2026-11-26T12:00:00.000Z');
    tokens = new AccessTokens(
      new Collection<AccessToken>(opened, 'token:', (v) => v as AccessToken),
      new AccessScope(),
      () => new Date(at++),
    );
  });
  afterEach(async () => {
    await opened.close();
    await removeHome(home);
  });

  it('names a bad name or role, trims the name, and lists oldest first', async () => {
    for (const name of ['', '   ', 'x'.repeat(101), 7 as unknown as string]) {
      await expect(withAccess(admin, () => tokens.create({ name, role: 'viewer' }))).rejects.toMatchObject({
        field: 'name',
        message: 'name must be 1-100 characters without control characters',
      });
    }
    // A control character is named by the text rule, which says which one it found.
    await expect(withAccess(admin, () => tokens.create({ name: 'tab\there', role: 'viewer' }))).rejects.toMatchObject({
      field: 'name',
      message: expect.stringContaining('must not contain control characters'),
    });
    await expect(withAccess(admin, () => tokens.create({ name: 'x', role: 'owner' as never }))).rejects.toMatchObject({
      field: 'role',
      message: 'role must be one of viewer, editor, admin',
    });
    const first = await withAccess(admin, () => tokens.create({ name: '  ci  ', role: 'viewer' }));
    expect(first.name).toBe('ci');
    expect(first.name.length).toBe(2);
    const second = await withAccess(admin, () => tokens.create({ name: 'x'.repeat(100), role: 'admin' }));
    const third = await withAccess(admin, () => tokens.create({ name: 'z', role: 'editor' }));
    expect((await withAccess(admin, () => tokens.list())).map((t) => t.id)).toEqual([first.id, second.id, third.id]);
    await expect(withAccess(admin, () => tokens.revoke('tok_0000000000000000'))).rejects.toThrow('no API token tok_0000000000000000');
    expect(await tokens.find('not-a-token')).toBeUndefined();
  });
});
