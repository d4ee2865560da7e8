import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from '../errors.js';
import { writeFileOnce } from '../store/write-file-once.js';

/**
 * The token programs send as `Authorization: Bearer`: CREDPORT_API_TOKEN, else a random one kept
 * in a 0600 file beside the store (created on first start), so a restart does not break clients.
 */
export async function loadApiToken(options: { env: NodeJS.ProcessEnv; home: string }): Promise<{ token: string; source: string }> {
  const fromEnv = options.env.CREDPORT_API_TOKEN?.trim();
  if (fromEnv) return { token: longEnough(fromEnv, 'CREDPORT_API_TOKEN'), source: 'CREDPORT_API_TOKEN' };
  const file = join(options.home, 'api-token');
  await writeFileOnce(file, `${randomBytes(32).toString('base64url')}\n`);
  const info = await stat(file);
  if ((info.mode & 0o077) !== 0) {
    throw new StoreError(
      'master_key_invalid',
      `API token file ${file} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${file}`,
    );
  }
  // An edited file is held to the same length as the variable: "changeme" would open every credential.
  return { token: longEnough((await readFile(file, 'utf8')).trim(), `API token file ${file}`), source: file };
}

const MIN_LENGTH = 24;

function longEnough(token: string, where: string): string {
  if (token.length < MIN_LENGTH)
    throw new StoreError(
      'master_key_invalid',
      `${where} must hold a token of at least ${MIN_LENGTH} characters (make one with: openssl rand -base64 32)`,
    );
  return token;
}

/** Compares in constant time (by digest, so lengths do not leak either). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
