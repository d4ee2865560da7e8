import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Keyv from 'keyv';
import { StoreError } from '../../src/errors.js';
import { CredentialRecords } from '../../src/store/credential-records.js';
import { keyId, loadMasterKey } from '../../src/store/master-key.js';
import { openKeyv, unusable } from '../../src/store/open-keyv.js';
import { redactUri, secretsOfUri } from '../../src/text/redact-uri.js';
import { resolveStoreLocation } from '../../src/store/store-location.js';
import { randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';

let home: string;
beforeEach(async () => (home = await tempHome()));
afterEach(() => removeHome(home));

describe('where the store is', () => {
  it('follows --home, then CREDPORT_HOME, then XDG_DATA_HOME, then ~/.local/share', () => {
    expect(resolveStoreLocation({ home: '/h', env: { CREDPORT_HOME: '/c' } })).toEqual({ home: '/h', uri: 'sqlite:///h/credport.sqlite', keyFile: '/h/master.key' });
    expect(resolveStoreLocation({ env: { CREDPORT_HOME: '/c', XDG_DATA_HOME: '/x' } }).home).toBe('/c');
    expect(resolveStoreLocation({ env: { CREDPORT_HOME: '  ', XDG_DATA_HOME: '/x' } }).home).toBe('/x/credport');
    expect(resolveStoreLocation({ env: { XDG_DATA_HOME: '' } }).home).toBe(join(homedir(), '.local', 'share', 'credport'));
  });

  it('takes --store, then CREDPORT_STORE, for the store URI', () => {
    expect(resolveStoreLocation({ home: '/h', storeUri: 'sqlite:///a.sqlite', env: { CREDPORT_STORE: 'sqlite:///b.sqlite' } }).uri).toBe('sqlite:///a.sqlite');
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
  ])('refuses %s, naming the stores it takes', async (uri, named) => {
    const error = await openKeyv(uri).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toBe(`store URI scheme "${named}" is not supported; use sqlite://<path>, postgresql://user:password@host/database or redis://host:port`);
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

  it('names a store it cannot create', async () => {
    await writeFile(join(home, 'file'), 'x');
    const uri = `sqlite://${join(home, 'file', 'store.sqlite')}`;
    await expect(openKeyv(uri)).rejects.toThrow(`store ${uri} cannot be used: `);
  });
});

describe('a credential record read from the store', () => {
  const good = (id: string) => ({ v: 1, id, connector: 'front', name: 'n', status: 'verified', createdAt: 'x', updatedAt: 'x', sealed: { alg: 'A256GCM', kid: 'k', iv: 'i', tag: 't', ct: 'c' } });

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
    await expect(records.get('cred_a')).rejects.toThrow('credential cred_a in the store is damaged');
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
    await expect(loadMasterKey({ keyFile: join(home, 'master.key') })).rejects.toThrow(`master key file ${join(home, 'master.key')} cannot be used (EISDIR)`);
  });
});
