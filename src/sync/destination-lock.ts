import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';

/**
 * One sync at a time per destination, across processes: two runs writing one file or one ledger
 * would each send what the other had not yet marked. A lock left by a killed process (its pid no
 * longer alive) is taken over, so `kill -9` and a rerun still resume.
 */
export async function lockDestination(home: string, destinationId: string): Promise<() => Promise<void>> {
  const dir = join(home, 'syncs');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${destinationId}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => unlink(path).catch(() => undefined);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
        throw new InputError(`destination ${destinationId} is being written by another sync (process ${owner}); wait for it to finish, or delete ${path} if that process is gone`, {
          code: 'destination_busy',
        });
      }
      await unlink(path).catch(() => undefined); // stale: its owner died
    }
  }
  throw new InputError(`destination ${destinationId} could not be locked (${path})`, { code: 'destination_busy' });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
