import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Reject } from './stream-io.js';

/** Records a destination refused, one JSON line each with the reason and the field; the sync goes on. */
export class RejectsFile {
  count = 0;

  constructor(readonly path: string) {}

  async add(reject: Reject): Promise<void> {
    // Records are the user's data: only the user may read them.
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    await appendFile(this.path, `${JSON.stringify({ at: new Date().toISOString(), ...reject })}\n`, { mode: 0o600 });
    this.count += 1;
  }
}
