import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { openCredport } from '../../src/open-credport.js';
import { keyId } from '../../src/keys/master-key.js';
import { CLI, runCli } from '../helpers/run-cli.js';
import { fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';

let home: string;
beforeEach(async () => (home = await tempHome()));
afterEach(() => removeHome(home));

const kidOfFile = async (file: string) => keyId(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64'));

/** `n` credentials through the library (the CLI would take minutes), with the key file in `home`. */
async function fill(n: number, masterKey?: string): Promise<string[]> {
  const credport = await openCredport({ home, env: {}, ...(masterKey ? { masterKey } : {}) });
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    const token = fakeToken(`k${i}`);
    await credport.credentials.create({ connector: 'front', values: { name: `C${i}`, apiKey: token }, verify: false });
    tokens.push(token);
  }
  await credport.close();
  return tokens;
}

describe('credport keys', () => {
  it('rotate, killed with kill -9 mid-way, finishes on the next run; the key file then holds the new key alone', async () => {
    await fill(3_000);
    const keyFile = join(home, 'master.key');
    const oldKid = await kidOfFile(keyFile);
    const env = { CREDPORT_HOME: home };
    const child = spawn(process.execPath, [CLI, 'keys', 'rotate', '--json'], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // Killed just after the rotation began (its next key file is there), long before 3,000 records are done.
    const deadline = Date.now() + 20_000;
    while (!(await stat(join(home, 'master.key.next')).catch(() => undefined))) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`keys rotate ended (${child.exitCode}) before it began: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await new Promise((resolve) => setTimeout(resolve, 60));
    child.kill('SIGKILL');
    await exited;
    const mid = JSON.parse((await runCli(['keys', 'status', '--json'], { env })).stdout) as {
      key: string;
      rotation?: { from: string; to: string };
      records: { kid: string; count: number }[];
      total: number;
    };
    expect(mid.records.reduce((n, r) => n + r.count, 0)).toBe(3_000);
    const nextKid = await kidOfFile(join(home, 'master.key.next'));
    // Killed after the rotation was recorded (the usual case) or just before: either way the next run finishes it.
    if (mid.rotation) expect(mid.rotation).toMatchObject({ from: oldKid, to: nextKid });
    else expect(mid).toMatchObject({ key: oldKid, records: [{ kid: oldKid, count: 3_000 }] });
    const newKid = nextKid;

    const resumed = await runCli(['keys', 'rotate', '--json'], { env });
    expect(resumed.code).toBe(0);
    const result = JSON.parse(resumed.stdout) as { from: string; to: string; resealed: number; total: number };
    expect(result).toMatchObject({ from: oldKid, to: newKid, total: 3_000 });
    expect(result.resealed).toBe(mid.records.find((r) => r.kid === oldKid)?.count ?? 0); // only what was left
    expect(await kidOfFile(keyFile)).toBe(newKid);
    await expect(stat(join(home, 'master.key.next'))).rejects.toThrow('ENOENT');
    const after = await runCli(['keys', 'status'], { env });
    expect(after.stdout).toContain(`store key:   ${newKid}\n`);
    expect(after.stdout).toMatch(new RegExp(`${newKid}\\s+3000\\s+store key`));
    expect(after.stdout).toContain(`retired:     ${oldKid}`);
    // Every secret opens with the new key file alone: the library reads them all back.
    const credport = await openCredport({ home, env: {} });
    const tiles = await credport.credentials.list();
    await Promise.all(tiles.slice(0, 50).map((t) => credport.credentials.client(t.id)));
    await credport.close();
  }, 120_000);

  it('with CREDPORT_MASTER_KEY, needs CREDPORT_MASTER_KEY_NEXT, says what to do after, and never prints a key', async () => {
    const oldKey = randomMasterKey();
    const newKey = randomMasterKey();
    await fill(3, oldKey);
    const missing = await runCli(['keys', 'rotate'], { env: { CREDPORT_HOME: home, CREDPORT_MASTER_KEY: oldKey } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('set CREDPORT_MASTER_KEY_NEXT to a new key (openssl rand -base64 32)');
    const done = await runCli(['keys', 'rotate'], {
      env: { CREDPORT_HOME: home, CREDPORT_MASTER_KEY: oldKey, CREDPORT_MASTER_KEY_NEXT: newKey },
    });
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('re-sealed 3 of 3 credentials under key');
    expect(done.stdout).toContain('now make the value of CREDPORT_MASTER_KEY_NEXT the CREDPORT_MASTER_KEY of every process');
    const stale = await runCli(['credentials', 'list'], { env: { CREDPORT_HOME: home, CREDPORT_MASTER_KEY: oldKey } });
    expect(stale.code).toBe(5);
    expect(stale.stderr).toContain('which this store retired on');
    expect((await runCli(['credentials', 'list', '--json'], { env: { CREDPORT_HOME: home, CREDPORT_MASTER_KEY: newKey } })).code).toBe(0);
    for (const out of [missing, done, stale]) {
      for (const key of [oldKey, newKey]) expect(out.stdout + out.stderr).not.toContain(key);
    }
    // Nothing was written to a key file: the keys live in the environment.
    await expect(stat(join(home, 'master.key.next'))).rejects.toThrow('ENOENT');
  }, 60_000);
});
