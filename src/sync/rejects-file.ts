import { constants } from 'node:fs';
import { dirname } from 'node:path';
import { FileScope } from './file-scope.js';
import type { Reject } from './stream-io.js';

/** Records a destination refused, one JSON line each with the reason and the field; the sync goes on. */
export class RejectsFile {
  count = 0;

  constructor(
    readonly path: string,
    /** A tenant's rejects file is in its workspace folder, named relative to it. */
    private readonly scope: FileScope = FileScope.operator,
  ) {}

  /** The path as the caller may see it (a sync summary's `rejects`). */
  get shown(): string {
    return this.scope.show(this.path);
  }

  async add(reject: Reject): Promise<void> {
    // Records are the user's data: only the user may read them.
    await this.scope.ensureDir(dirname(this.path));
    const handle = await this.scope.open(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    try {
      await handle.appendFile(`${JSON.stringify({ at: new Date().toISOString(), ...reject })}\n`);
    } finally {
      await handle.close();
    }
    this.count += 1;
  }
}
