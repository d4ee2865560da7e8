import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { StoreError } from '../../src/errors.js';
import { keyId, loadMasterKey, prepareNextKeyFile, promoteNextKeyFile } from '../../src/keys/master-key.js';
import { Sealer } from '../../src/keys/sealer.js';
import { associatedData } from '../../src/credentials/credential-record.js';
import { randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';

const envKey = (b64 = randomMasterKey()) => loadMasterKey({ envValue: b64, keyFile: '/nonexistent/never-read' });

describe('sealing secrets (AES-256-GCM)', () => {
  it('opens what it sealed, and the sealed form does not contain the plaintext', async () => {
    const sealer = new Sealer(await envKey());
    const sealed = sealer.seal('{"apiKey":"tok_plaintext_123456"}', 'credport:credential:cred_a');
    expect(JSON.stringify(sealed)).not.toContain('tok_plaintext');
    expect(sealed).toMatchObject({ alg: 'A256GCM', kid: sealer.kid });
    expect(Buffer.from(sealed.iv, 'base64')).toHaveLength(12);
    expect(sealer.open(sealed, 'credport:credential:cred_a', 'x')).toBe('{"apiKey":"tok_plaintext_123456"}');
  });

  it('uses a fresh IV for every record, so equal secrets do not look equal', async () => {
    const sealer = new Sealer(await envKey());
    const a = sealer.seal('same', 'aad');
    const b = sealer.seal('same', 'aad');
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
  });

  it('refuses a ciphertext moved to another record (the id is associated data)', async () => {
    const sealer = new Sealer(await envKey());
    const sealed = sealer.seal('secret', 'credport:credential:cred_a');
    expect(() => sealer.open(sealed, 'credport:credential:cred_b', 'credential cred_b')).toThrow(/credential cred_b is damaged/);
  });

  it('refuses a flipped bit or a truncated tag as damage, never returning garbage', async () => {
    const sealer = new Sealer(await envKey());
    const sealed = sealer.seal('secret-value', 'aad');
    const ct = Buffer.from(sealed.ct, 'base64');
    ct[0] = ct[0]! ^ 1;
    expect(() => sealer.open({ ...sealed, ct: ct.toString('base64') }, 'aad', 'r')).toThrow(StoreError);
    const shortTag = Buffer.from(sealed.tag, 'base64').subarray(0, 4).toString('base64');
    expect(() => sealer.open({ ...sealed, tag: shortTag }, 'aad', 'r')).toThrow(/damaged/);
  });

  it('names a wrong master key by its key ids, without trying to decrypt', async () => {
    const right = await envKey();
    const wrong = await envKey();
    const sealed = new Sealer(right).seal('secret', 'aad');
    let thrown: unknown;
    try {
      new Sealer(wrong).open(sealed, 'aad', 'credential cred_a');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StoreError);
    expect((thrown as StoreError).code).toBe('wrong_master_key');
    expect((thrown as StoreError).message).toContain(right.kid);
    expect((thrown as StoreError).message).toContain(wrong.kid);
  });

  it('opens records sealed under a previous key it is given (rotation), sealing new ones under the current key', async () => {
    const old = await envKey();
    const current = await envKey();
    const sealed = new Sealer(old).seal('secret', 'aad');
    const sealer = new Sealer(current, [old]);
    expect(sealer.open(sealed, 'aad', 'r')).toBe('secret');
    expect(sealer.seal('x', 'aad').kid).toBe(current.kid);
  });
});

describe('a record sealed by an earlier release', () => {
  // Sealed once with a fixed key (32 bytes of 7) by the format of release 1: a change to the
  // cipher, the key id or what a record is bound to would leave every store unreadable.
  const key = Buffer.alloc(32, 7);
  const sealer = new Sealer({ key, kid: keyId(key), source: 'env' });
  const record = { id: 'cred_0123456789abcdef', connector: 'front', baseUrl: 'https://api2.frontapp.com' };

  it('still opens, bound to its id, connector and base URL', () => {
    const sealed = {
      alg: 'A256GCM',
      kid: 'bb095e7497ead32b',
      iv: 'gSFNlEP/Gxab08eG',
      tag: 'UbaFldcDLO4OXcIUL6Tf0g==',
      ct: 'mKCr8zP0sXkI+PQY1kz6IlA8acEW4EN9Ykso1E0X/fprEBN9',
    } as const;
    expect(sealer.kid).toBe('bb095e7497ead32b');
    expect(sealer.open(sealed, associatedData(record), 'x')).toBe('{"apiKey":"golden-front-token-0001"}');
    expect(() => sealer.open(sealed, associatedData({ ...record, baseUrl: 'https://evil.example' }), 'x')).toThrow(StoreError);
  });

  it('of a workspace still opens in that workspace only', () => {
    const sealed = {
      alg: 'A256GCM',
      kid: 'bb095e7497ead32b',
      iv: 'ylgpLiu5vNfq/baw',
      tag: 'LDYbS0/h9jWX9wJ9yLp5pQ==',
      ct: 'qsAmpIEv3YIJUAuYIY/p1cX2BYWK8gqj1btj7Z9SNfnuddUW',
    } as const;
    const inAcme = { ...record, id: 'cred_fedcba9876543210', workspace: 'acme' };
    expect(sealer.open(sealed, associatedData(inAcme), 'x')).toBe('{"apiKey":"golden-front-token-0002"}');
    expect(() => sealer.open(sealed, associatedData({ ...inAcme, workspace: 'other' }), 'x')).toThrow(StoreError);
    expect(() => sealer.open(sealed, associatedData({ ...inAcme, workspace: undefined }), 'x')).toThrow(StoreError);
  });
});

describe('the master key', () => {
  let home: string;
  beforeEach(async () => (home = await tempHome()));
  afterEach(() => removeHome(home));

  it('is created on first use as a 0600 file beside the store, and read back the same', async () => {
    const keyFile = join(home, 'master.key');
    const first = await loadMasterKey({ keyFile });
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const again = await loadMasterKey({ keyFile });
    expect(again.kid).toBe(first.kid);
    expect(again.key.equals(first.key)).toBe(true);
    expect(first.key).toHaveLength(32);
  });

  it('is created once when many callers race for it', async () => {
    const keyFile = join(home, 'race', 'master.key');
    const keys = await Promise.all(Array.from({ length: 20 }, () => loadMasterKey({ keyFile })));
    expect(new Set(keys.map((k) => k.kid)).size).toBe(1);
    expect((await readFile(keyFile, 'utf8')).trim()).toBe(keys[0]!.key.toString('base64'));
    // Each writer's temporary file is gone, the winner's and the losers'.
    expect(await readdir(join(home, 'race'))).toEqual(['master.key']);
  });

  it('refuses a key file other users can read', async () => {
    const keyFile = join(home, 'master.key');
    await loadMasterKey({ keyFile });
    await chmod(keyFile, 0o644);
    await expect(loadMasterKey({ keyFile })).rejects.toMatchObject({
      code: 'master_key_invalid',
      message: `master key file ${keyFile} is readable by other users (mode 644); run: chmod 600 ${keyFile}`,
    });
  });

  it('refuses a damaged key file by name', async () => {
    const keyFile = join(home, 'master.key');
    await writeFile(keyFile, 'not-a-key\n', { mode: 0o600 });
    await expect(loadMasterKey({ keyFile })).rejects.toThrow(`master key file ${keyFile} must be 32 random bytes`);
  });

  it.each([
    ['too short', Buffer.alloc(16).toString('base64')],
    ['not base64', '!'.repeat(44)],
    ['too long', Buffer.alloc(48).toString('base64')],
  ])('refuses a CREDPORT_MASTER_KEY that is %s, without echoing it', async (_what, value) => {
    const error = await loadMasterKey({ envValue: value, keyFile: join(home, 'k') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain('CREDPORT_MASTER_KEY must be 32 random bytes in base64');
    expect((error as StoreError).message).not.toContain(value);
  });

  it('prefers CREDPORT_MASTER_KEY over the key file, and never writes it to disk', async () => {
    const value = randomMasterKey();
    const key = await loadMasterKey({ envValue: value, keyFile: join(home, 'master.key') });
    expect(key.source).toBe('env');
    expect(key.kid).toBe(keyId(Buffer.from(value, 'base64')));
    await expect(stat(join(home, 'master.key'))).rejects.toThrow();
  });
});

describe('the next key file of a rotation', () => {
  it('replaces the key file only when it holds the key the store was rotated to', async () => {
    const home = await tempHome();
    try {
      const keyFile = join(home, 'master.key');
      const old = await loadMasterKey({ keyFile });
      const next = await prepareNextKeyFile(keyFile);
      expect(await prepareNextKeyFile(keyFile)).toEqual(next); // made once, then read
      expect((await stat(`${keyFile}.next`)).mode & 0o777).toBe(0o600);
      expect(await promoteNextKeyFile(keyFile, 'another0another0')).toBe(false); // a leftover of another rotation: left alone
      expect((await loadMasterKey({ keyFile })).kid).toBe(old.kid);
      expect(await promoteNextKeyFile(keyFile, next.kid)).toBe(true);
      expect((await loadMasterKey({ keyFile })).kid).toBe(next.kid);
      await expect(stat(`${keyFile}.next`)).rejects.toThrow('ENOENT');
      expect(await promoteNextKeyFile(keyFile, next.kid)).toBe(true); // done by an earlier run
      expect(await promoteNextKeyFile(keyFile, old.kid)).toBe(false);
    } finally {
      await removeHome(home);
    }
  });
});
