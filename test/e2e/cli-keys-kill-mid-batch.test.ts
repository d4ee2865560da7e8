import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { keyId } from '../../src/keys/master-key.js';
import { CLI, runCli } from '../helpers/run-cli.js';
import { fillSealed, unopenable } from '../helpers/sealed-fill.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';
import { ensurePostgres, freshPostgresUri } from '../helpers/test-servers.js';

/**
 * A key rotation killed with kill -9 between its batches, proven mid-way: 2,000 records re-seal in
 * about 200 ms, so a kill timed from outside lands before the first batch or after the last. Here
 * the store holds 50,000 (100 batches, about 2 s of writing) and the kill follows the rotation's
 * own progress report that some batches landed and some were not yet sent.
 */
const N = 50_000;
// The rotation's batch (key-rotation.ts, and the README): each is one statement, so lands whole or not at all.
const BATCH = 500;

interface Progress {
  event: 'progress';
  resealed: number;
  left: number;
  total: number;
}
interface Status {
  key: string;
  rotation?: { from: string; to: string };
  records: { kid: string; count: number }[];
  damaged: number;
  total: number;
}

let home: string;
beforeAll(() => ensurePostgres());
beforeEach(async () => (home = await tempHome()));
afterEach(() => removeHome(home));

const kidOfFile = async (file: string) => keyId(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64'));

/** `keys rotate --json`, killed with SIGKILL at its first progress line with records both landed and left; that line. */
async function rotateKilledMidway(env: Record<string, string>): Promise<Progress> {
  const child = spawn(process.execPath, [CLI, 'keys', 'rotate', '--json'], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let text = '';
  let seen = '';
  const midway = await new Promise<Progress | undefined>((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      text += d.toString();
      const lines = text.split('\n');
      text = lines.pop()!;
      for (const line of lines) {
        seen += `${line}\n`;
        if (!line.startsWith('{"event":"progress"')) continue;
        const p = JSON.parse(line) as Progress;
        if (p.resealed > 0 && p.left > 0) {
          child.kill('SIGKILL');
          resolve(p);
        }
      }
    });
    void exited.then(() => resolve(undefined));
  });
  const code = await exited;
  if (!midway) throw new Error(`keys rotate ended (${code}) without a progress report mid-way; its stderr:\n${seen}${text}`);
  return midway;
}

describe.each([
  ['SQLite', async () => undefined],
  ['PostgreSQL', freshPostgresUri],
])('credport keys rotate on %s, killed with kill -9 between batches', (_name, storeOf) => {
  it(`leaves the store mixed, every record readable, and the next run re-seals only what was left (${N} records)`, async () => {
    const storeUri = await storeOf();
    const tokens = await fillSealed({ home, n: N, ...(storeUri ? { storeUri } : {}) });
    const env: Record<string, string> = { CREDPORT_HOME: home, ...(storeUri ? { CREDPORT_STORE: storeUri } : {}) };
    const keyFile = join(home, 'master.key');
    const oldKid = await kidOfFile(keyFile);

    const killedAt = await rotateKilledMidway(env);
    const newKid = await kidOfFile(join(home, 'master.key.next'));
    const mid = JSON.parse((await runCli(['keys', 'status', '--json'], { env })).stdout) as Status;
    const underNew = mid.records.find((r) => r.kid === newKid)?.count ?? 0;
    const underOld = mid.records.find((r) => r.kid === oldKid)?.count ?? 0;
    // Mixed: batches landed (at least those the last report counted) and others never did.
    expect(mid).toMatchObject({ key: oldKid, rotation: { from: oldKid, to: newKid }, damaged: 0, total: N });
    expect(underNew).toBeGreaterThanOrEqual(killedAt.resealed);
    expect(underOld).toBeGreaterThan(0);
    expect(underNew + underOld).toBe(N);
    // Whole batches only: a batch cut by the kill left none of its records half-way.
    expect(underNew % BATCH).toBe(0);

    const resumed = await runCli(['keys', 'rotate', '--json'], { env });
    expect(resumed).toMatchObject({ code: 0 });
    expect(JSON.parse(resumed.stdout)).toMatchObject({ from: oldKid, to: newKid, total: N, resealed: underOld });
    expect(await kidOfFile(keyFile)).toBe(newKid);
    await expect(stat(join(home, 'master.key.next'))).rejects.toThrow('ENOENT');
    const after = JSON.parse((await runCli(['keys', 'status', '--json'], { env })).stdout) as Status;
    expect(after).toMatchObject({ key: newKid, records: [{ kid: newKid, count: N }], damaged: 0, total: N });
    expect(after.rotation).toBeUndefined();
    // Every record, read from the store and opened with the key file alone, holds the token it was filled with.
    const { opened, failed } = await unopenable({ home, tokens, ...(storeUri ? { storeUri } : {}) });
    expect({ failed: failed.length, first: failed.slice(0, 5) }).toEqual({ failed: 0, first: [] });
    expect(opened).toBe(N);
  }, 120_000);
});
