import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * One stream's file in a JSONL destination. Each page is written at the offset the last
 * checkpoint recorded and flushed to disk before the checkpoint moves: a sync killed between the
 * two finds the page past the checkpoint and cuts it off, so no record is written twice.
 */
export class JsonlWriter {
  private constructor(
    private readonly handle: FileHandle,
    private offset: number,
  ) {}

  static async open(dir: string, stream: string, offset: number): Promise<JsonlWriter> {
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${stream}.jsonl`);
    await (await open(file, 'a')).close(); // create it if missing, without touching its content
    const handle = await open(file, 'r+');
    await handle.truncate(offset);
    return new JsonlWriter(handle, offset);
  }

  /** Appends one page; returns the offset after it, for the checkpoint. */
  async append(records: readonly unknown[]): Promise<number> {
    if (records.length === 0) return this.offset;
    const bytes = Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    await this.handle.write(bytes, 0, bytes.length, this.offset);
    await this.handle.datasync();
    this.offset += bytes.length;
    return this.offset;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
