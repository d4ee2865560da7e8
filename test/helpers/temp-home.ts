import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function tempHome(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'credport-test-'));
}

export async function removeHome(home: string): Promise<void> {
  await rm(home, { recursive: true, force: true });
}

/** Every byte of every file under the home folder (SQLite file, its WAL, the key file, synced files), for grepping. */
export async function allBytes(home: string): Promise<Buffer> {
  const entries = await readdir(home, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  return Buffer.concat(await Promise.all(files.map((f) => readFile(f))));
}

/** A token shaped like Front's (a JWT-ish string), unique per call so a leak names its test. */
export function fakeToken(label = 'tok'): string {
  return `eyJ${label}.${randomBytes(24).toString('base64url')}.${randomBytes(16).toString('hex')}`;
}

export function randomMasterKey(): string {
  return randomBytes(32).toString('base64');
}
