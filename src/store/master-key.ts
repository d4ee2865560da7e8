import { createHmac, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { StoreError } from '../errors.js';
import { writeFileOnce } from './write-file-once.js';

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
  let info;
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
  return new StoreError('master_key_invalid', `master key file ${file} cannot be used (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
}
