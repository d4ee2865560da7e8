import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Keyv from 'keyv';
import { StoreError } from '../../src/errors.js';
import { CredentialRecords } from '../../src/store/credential-records.js';
import { keyId, loadMasterKey, loadMasterKeys, nextKeyFile, prepareNextKeyFile, promoteNextKeyFile } from '../../src/keys/master-key.js';
import { escapeLike, unusable } from '../../src/store/backend.js';
import { openKeyv } from '../../src/store/open-keyv.js';
import { redactUri, secretsOfUri } from '../../src/text/redact-uri.js';
import { resolveStoreLocation } from '../../src/store/store-location.js';
import { randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';

let home: string;
beforeEach(async () => (home = await tempHome()));
afterEach(() => removeHome(home));

describe('where the store is', () => {
  it('follows --home, then CREDPORT_HOME, then XDG_DATA_HOME, then ~/.local/share', () => {
    expect(resolveStoreLocation({ home: '/h', env: { CREDPORT_HOME: '/c' } })).toEqual({
      home: '/h',
      uri: 'sqlite:///h/credport.sqlite',
      keyFile: '/h/master.key',
    });
    expect(resolveStoreLocation({ env: { CREDPORT_HOME: '/c', XDG_DATA_HOME: '/x' } }).home).toBe('/c');
    expect(resolveStoreLocation({ env: { CREDPORT_HOME: '  ', XDG_DATA_HOME: '/x' } }).home).toBe('/x/credport');
    expect(resolveStoreLocation({ env: { XDG_DATA_HOME: '' } }).home).toBe(join(homedir(), '.local', 'share', 'credport'));
  });

  it('takes --store, then CREDPORT_STORE, for the store URI', () => {
    expect(resolveStoreLocation({ home: '/h', storeUri: 'sqlite:///a.sqlite', env: { CREDPORT_STORE: 'sqlite:///b.sqlite' } }).uri).toBe(
      'sqlite:///a.sqlite',
    );
    expect(resolveStoreLocation({ home: '/h', env: { CREDPORT_STORE: 'sqlite:///b.sqlite' } }).uri).toBe('sqlite:///b.sqlite');
  });
});

describe('opening the store', () => {
  it('creates a private folder and file, in WAL mode', async () => {
    const path = join(home, 'nested', 'store.sqlite');
    const opened = await openKeyv(`sqlite://${path}`);
    try {
      await opened.keyv.set('k', { a: 1 });
      expect(await opened.keyv.get('k')).toEqual({ a: 1 });
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect((await stat(join(home, 'nested'))).mode & 0o777).toBe(0o700);
      expect(await readdir(join(home, 'nested'))).toContain('store.sqlite-wal');
    } finally {
      await opened.close();
    }
  });

  it.each([
    ['mongodb://u:hunter2@localhost:27017', 'mongodb'],
    ['/just/a/path', '(none)'],
    ['toString://x', 'tostring'],
    ['constructor://x', 'constructor'], // a name every object has: not a backend
  ])('refuses %s, naming the stores it takes', async (uri, named) => {
    const error = await openKeyv(uri).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('store_unavailable');
    expect((error as Error).message).toBe(
      `store URI scheme "${named}" is not supported; use sqlite://<path>, postgresql://user:password@host/database or redis://host:port`,
    );
  });

  it.each([
    ['postgresql://credport:hunter2@db.example:5432/credport', 'postgresql://credport:***@db.example:5432/credport'],
    ['redis://:hunter2@cache:6379/2', 'redis://:***@cache:6379/2'],
    ['redis://default@cache:6379', 'redis://default@cache:6379'],
    ['redis://:p@ss@cache:6379', 'redis://:***@cache:6379'], // drivers split at the last @
    ['postgresql://u@db/credport?password=hunter2&sslmode=require', 'postgresql://u@db/credport?password=***&sslmode=require'],
    ['postgresql://u:hun/ter2@db/credport', 'postgresql://(a URI that does not parse, not shown)'],
    ['sqlite:///home/me/credport.sqlite', 'sqlite:///home/me/credport.sqlite'],
  ])('prints %s without its password', (uri, shown) => {
    expect(redactUri(uri)).toBe(shown);
  });

  it('keeps no part of a password a driver quoted at the edge where its message is cut', () => {
    const uri = 'postgresql://credport:hunter2-long-password@db:5432/credport';
    const quoted = new Error(`${'x'.repeat(190)} hunter2-long-password`);
    const error = unusable(redactUri(uri), quoted, secretsOfUri(uri));
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('cannot be used: ');
  });

  it('keeps a password out of the message and stack of a driver that quotes its URI', async () => {
    // The path holds the query's secret: SQLite's folder cannot be made (a file is in the way), and the error quotes the path.
    await writeFile(join(home, 'file?token=hunter2x&'), 'x');
    const uri = `sqlite://${join(home, 'file?token=hunter2x&', 'a', 'store.sqlite')}`;
    const error = (await openKeyv(uri).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(`cannot be used: `);
    expect(error.message).toContain('file?token=***&');
    expect(error.message).not.toContain('hunter2x');
    expect(error.stack).not.toContain('hunter2x');
  });

  it('escapes the wildcards of a key prefix in a LIKE pattern', () => {
    expect(escapeLike('a_b%c\\d')).toBe('a\\_b\\%c\\\\d');
  });

  it('swaps no records in one statement when given none', async () => {
    const opened = await openKeyv(`sqlite://${join(home, 'store.sqlite')}`);
    try {
      expect(await opened.swapMany!([])).toEqual([]);
    } finally {
      await opened.close();
    }
  });

  it('names a store whose file is not a database', async () => {
    const path = join(home, 'store.sqlite');
    await writeFile(path, 'this is not a SQLite file, but long enough to be read as one: '.repeat(40));
    await expect(openKeyv(`sqlite://${path}`)).rejects.toMatchObject({
      code: 'store_unavailable',
      message: expect.stringMatching(`^store sqlite://${path} cannot be used: .*not a database`),
    });
  });

  it('names a store it cannot create', async () => {
    await writeFile(join(home, 'file'), 'x');
    const uri = `sqlite://${join(home, 'file', 'store.sqlite')}`;
    await expect(openKeyv(uri)).rejects.toThrow(`store ${uri} cannot be used: `);
  });
});

describe('a credential record read from the store', () => {
  const good = (id: string) => ({
    v: 1,
    id,
    connector: 'front',
    name: 'n',
    status: 'verified',
    createdAt: 'x',
    updatedAt: 'x',
    sealed: { alg: 'A256GCM', kid: 'k', iv: 'i', tag: 't', ct: 'c' },
  });

  it.each([
    ['another version', { v: 2 }],
    ['another id', { id: 'cred_other' }],
    ['no connector', { connector: 1 }],
    ['no name', { name: null }],
    ['no status', { status: undefined }],
    ['no sealed secret', { sealed: null }],
    ['a sealed secret without its tag', { sealed: { kid: 'k', iv: 'i', ct: 'c' } }],
  ])('is refused as damaged, by id, when it has %s', async (_what, change) => {
    const keyv = new Keyv();
    const records = new CredentialRecords({ keyv, shown: 'memory' });
    await keyv.set('credential:cred_a', { ...good('cred_a'), ...change });
    await expect(records.get('cred_a')).rejects.toThrow(
      'credential cred_a in the store is damaged: it is not a credential record (not JSON, or fields missing or of the wrong type); delete it with: credport credentials delete cred_a',
    );
    await expect(records.get('cred_missing')).resolves.toBeUndefined();
  });

  it('is returned as it is when whole', async () => {
    const keyv = new Keyv();
    const records = new CredentialRecords({ keyv, shown: 'memory' });
    await keyv.set('credential:cred_a', good('cred_a'));
    await records.setMeta('kid', 'abc');
    expect(await records.get('cred_a')).toEqual(good('cred_a'));
    expect(await records.getMeta('kid')).toBe('abc');
    expect(await records.getMany(['cred_a', 'cred_missing'])).toEqual([good('cred_a'), undefined]);
    expect(await records.getMany([])).toEqual([]);
  });
});

describe('the master key, from the environment', () => {
  it('is read with surrounding whitespace, and a blank value falls back to the key file', async () => {
    const value = randomMasterKey();
    expect((await loadMasterKey({ envValue: ` ${value}\n`, keyFile: join(home, 'unused') })).kid).toBe(keyId(Buffer.from(value, 'base64')));
    const fromFile = await loadMasterKey({ envValue: '  ', keyFile: join(home, 'master.key') });
    expect(fromFile.source).toBe('file');
  });

  it('is taken without its base64 padding', async () => {
    const value = randomMasterKey();
    expect(value.endsWith('=')).toBe(true);
    expect((await loadMasterKey({ envValue: value.replace(/=+$/, ''), keyFile: join(home, 'unused') })).kid).toBe(
      keyId(Buffer.from(value, 'base64')),
    );
  });

  it('has a 16-hex-digit id that differs between keys', () => {
    const a = keyId(Buffer.alloc(32, 1));
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(keyId(Buffer.alloc(32, 2))).not.toBe(a);
  });

  it('creates its folder private', async () => {
    await loadMasterKey({ keyFile: join(home, 'deep', 'master.key') });
    expect((await stat(join(home, 'deep'))).mode & 0o777).toBe(0o700);
  });

  it('names a key file it cannot read', async () => {
    await mkdir(join(home, 'master.key'), { mode: 0o700 });
    await expect(loadMasterKey({ keyFile: join(home, 'master.key') })).rejects.toThrow(
      `master key file ${join(home, 'master.key')} cannot be used (EISDIR)`,
    );
  });
});

describe('the next master key', () => {
  it("is read from the key file's .next beside it, and a next key equal to the current one is no next key", async () => {
    const keyFile = join(home, 'master.key');
    const current = await loadMasterKey({ keyFile });
    expect((await loadMasterKeys({ keyFile })).map((k) => k.kid)).toEqual([current.kid]);
    const next = randomMasterKey();
    await writeFile(nextKeyFile(keyFile), `${next}\n`, { mode: 0o600 });
    const keys = await loadMasterKeys({ keyFile });
    expect(keys.map((k) => [k.kid, k.source])).toEqual([
      [current.kid, 'file'],
      [keyId(Buffer.from(next, 'base64')), 'file'],
    ]);
    const env = randomMasterKey();
    expect(await loadMasterKeys({ envValue: env, nextEnvValue: ` ${env} `, keyFile })).toHaveLength(1);
    expect((await loadMasterKeys({ envValue: env, nextEnvValue: next, keyFile })).map((k) => k.source)).toEqual(['env', 'env']);
  });

  it('is made in the .next file once, and read back from it', async () => {
    const keyFile = join(home, 'master.key');
    const made = await prepareNextKeyFile(keyFile);
    expect(made.source).toBe('file');
    expect((await prepareNextKeyFile(keyFile)).kid).toBe(made.kid);
    expect((await stat(nextKeyFile(keyFile))).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['a character outside base64 before it', (k: string) => `*${k}`],
    ['a character outside base64 after it', (k: string) => `${k}*`],
    ['a character outside base64 inside it', (k: string) => `${k.slice(0, 20)}.${k.slice(20)}`],
  ])('refuses a key with %s, though base64 decoding would skip it', async (_what, spoil) => {
    await expect(loadMasterKey({ envValue: spoil(randomMasterKey()), keyFile: join(home, 'k') })).rejects.toMatchObject({
      code: 'master_key_invalid',
      message: 'CREDPORT_MASTER_KEY must be 32 random bytes in base64 (44 characters); make one with: openssl rand -base64 32',
    });
  });

  it('names CREDPORT_MASTER_KEY_NEXT when it is not a key', async () => {
    await expect(loadMasterKeys({ envValue: randomMasterKey(), nextEnvValue: 'short', keyFile: join(home, 'k') })).rejects.toThrow(
      'CREDPORT_MASTER_KEY_NEXT must be 32 random bytes in base64 (44 characters); make one with: openssl rand -base64 32',
    );
  });

  it('names the key file when the rename that ends a rotation fails', async () => {
    const keyFile = join(home, 'master.key');
    const next = randomMasterKey();
    await writeFile(nextKeyFile(keyFile), `${next}\n`, { mode: 0o600 });
    await mkdir(join(keyFile, 'in-the-way'), { recursive: true }); // a folder that is not empty cannot be renamed over
    await expect(promoteNextKeyFile(keyFile, keyId(Buffer.from(next, 'base64')))).rejects.toThrow(
      `master key file ${keyFile} cannot be used (EISDIR)`,
    );
  });

  it('names a key file that cannot be created', async () => {
    // A name that fits the file system, but not with the suffix of the temporary file it is written through.
    const keyFile = join(home, 'k'.repeat(245));
    await expect(loadMasterKey({ keyFile })).rejects.toMatchObject({
      code: 'master_key_invalid',
      message: `master key file ${keyFile} cannot be used (ENAMETOOLONG)`,
    });
  });
});
