import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { FileScope } from '../file-scope.js';
import type { StreamWriter, WriteOutcome } from '../stream-io.js';

/**
 * One stream's file in a JSONL destination. Each page is written at the offset the last checkpoint
 * recorded, before the checkpoint moves: a sync killed between the two finds the page past the
 * checkpoint and cuts it off, so no record is written twice. A killed process loses nothing the
 * kernel already has, so pages are not fsynced one by one; a file shorter than its checkpoint (a
 * machine that lost power) is refused rather than padded. Records are the user's data: files are
 * created 0600 and folders 0700, and a tenant's stay inside its workspace folder (the scope checks).
 */
export class JsonlWriter implements StreamWriter {
  private constructor(
    private readonly handle: FileHandle,
    private offset: number,
  ) {}

  static async open(dir: string, stream: string, offset: number, scope: FileScope = FileScope.operator): Promise<JsonlWriter> {
    await scope.ensureDir(dir);
    const file = join(dir, `${stream}.jsonl`);
    // Created if missing, its content untouched until the truncate below; never through a link.
    const handle = await scope.open(file, constants.O_RDWR | constants.O_CREAT, 0o600);
    const { size } = await handle.stat();
    if (size < offset) {
      await handle.close();
      throw new InputError(
        `${scope.show(file)} is shorter than the sync's checkpoint (${size} < ${offset} bytes): it was changed outside credport; ` +
          `run the sync with --full-refresh`,
        { code: 'destination_changed' },
      );
    }
    await handle.truncate(offset);
    return new JsonlWriter(handle, offset);
  }

  /** Appends one page; the offset after it goes into the checkpoint. */
  async write(records: readonly unknown[]): Promise<WriteOutcome> {
    return { offset: await this.append(records), sent: records.length, rejected: 0, skipped: 0 };
  }

  private async append(records: readonly unknown[]): Promise<number> {
    if (records.length === 0) return this.offset;
    // One string for the page, written as is: no array of lines, no joined copy, no Buffer copy of
    // it (a thousand syncs writing at once made these most of a worker's garbage).
    let text = '';
    for (const record of records) text += `${JSON.stringify(record)}\n`;
    const length = Buffer.byteLength(text);
    const { bytesWritten } = await this.handle.write(text, this.offset, 'utf8');
    // A short write on a regular file is a full disk: the checkpoint must not vouch for bytes not there.
    if (bytesWritten !== length) throw new Error(`short write to a JSONL destination (${bytesWritten} of ${length} bytes)`);
    this.offset += length;
    return this.offset;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
