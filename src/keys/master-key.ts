import { createHmac, randomBytes } from 'node:crypto';
import { readFile, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreError } from '../errors.js';
import { syncFolder, writeFileOnce } from '../store/write-file-once.js';

export interface MasterKey {
  readonly key: Buffer;
  /** Names the key without revealing it; stored beside every sealed secret. */
  readonly kid: string;
  readonly source: 'env' | 'file';
}

const KEY_BYTES = 32;

export function keyId(key: Buffer): string {
  return createHmac('sha256', key).update('credport master key id v1').digest('hex').slice(0, 16);
}

/** CREDPORT_MASTER_KEY (base64, 32 bytes) when set, else the key file, created on first use. */
export async function loadMasterKey(options: { envValue?: string | undefined; keyFile: string }): Promise<MasterKey> {
  if (options.envValue !== undefined && options.envValue.trim() !== '') {
    return withKid(decode(options.envValue.trim(), 'CREDPORT_MASTER_KEY'), 'env');
  }
  return withKid(await readOrCreateKeyFile(options.keyFile), 'file');
}

/**
 * Every key this process holds, the one to seal under first: CREDPORT_MASTER_KEY (or the key
 * file) and, when a rotation is prepared, CREDPORT_MASTER_KEY_NEXT (or `<key file>.next`). Which of
 * them seals is the store's choice (key-state.ts), so a process can hold the next key before a
 * rotation starts and keep working through it.
 */
export async function loadMasterKeys(options: {
  envValue?: string | undefined;
  nextEnvValue?: string | undefined;
  keyFile: string;
}): Promise<MasterKey[]> {
  const current = await loadMasterKey(options);
  const next =
    options.nextEnvValue !== undefined && options.nextEnvValue.trim() !== ''
      ? withKid(decode(options.nextEnvValue.trim(), 'CREDPORT_MASTER_KEY_NEXT'), 'env')
      : current.source === 'file'
        ? await readKeyFile(nextKeyFile(options.keyFile)).then((key) => (key ? withKid(key, 'file') : undefined))
        : undefined;
  return next && next.kid !== current.kid ? [current, next] : [current];
}

/** Where `credport keys rotate` puts the new key of a store whose key is a file, until the rotation ends. */
export function nextKeyFile(keyFile: string): string {
  return `${keyFile}.next`;
}

/** The next key file, created (random, mode 0600) unless it is there already. */
export async function prepareNextKeyFile(keyFile: string): Promise<MasterKey> {
  return withKid(await readOrCreateKeyFile(nextKeyFile(keyFile)), 'file');
}

/**
 * Ends a rotation of a key file: the next key replaces the old one in one rename, and the old key is
 * gone. Only when the next key file holds `kid`, the key the store was rotated to; true when the
 * key file holds it afterwards (renamed now, or by an earlier run).
 */
export async function promoteNextKeyFile(keyFile: string, kid: string): Promise<boolean> {
  const next = await readKeyFile(nextKeyFile(keyFile));
  if (!next) return (await readKeyFile(keyFile).then((key) => (key ? keyId(key) : undefined))) === kid;
  if (keyId(next) !== kid) return false;
  try {
    await rename(nextKeyFile(keyFile), keyFile);
    await syncFolder(dirname(keyFile));
  } catch (error) {
    throw storeError(keyFile, error);
  }
  return true;
}

function withKid(key: Buffer, source: MasterKey['source']): MasterKey {
  return { key, kid: keyId(key), source };
}

function decode(text: string, where: string): Buffer {
  const key = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || key.length !== KEY_BYTES) {
    throw new StoreError(
      'master_key_invalid',
      `${where} must be ${KEY_BYTES} random bytes in base64 (44 characters); make one with: openssl rand -base64 32`,
    );
  }
  return key;
}

async function readOrCreateKeyFile(file: string): Promise<Buffer> {
  const existing = await readKeyFile(file);
  if (existing) return existing;
  try {
    await writeFileOnce(file, `${randomBytes(KEY_BYTES).toString('base64')}\n`);
  } catch (error) {
    throw storeError(file, error);
  }
  const created = await readKeyFile(file);
  if (!created) throw new StoreError('master_key_invalid', `master key file ${file} vanished while it was being created`);
  return created;
}

async function readKeyFile(file: string): Promise<Buffer | undefined> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw storeError(file, error);
  }
  if ((info.mode & 0o077) !== 0) {
    throw new StoreError(
      'master_key_invalid',
      `master key file ${file} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${file}`,
    );
  }
  const text = (await readFile(file, 'utf8').catch((error: unknown) => Promise.reject(storeError(file, error)))).trim();
  return decode(text, `master key file ${file}`);
}

function storeError(file: string, error: unknown): StoreError {
  return new StoreError(
    'master_key_invalid',
    `master key file ${file} cannot be used (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
  );
}
