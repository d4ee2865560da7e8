import { createReadStream } from 'node:fs';
import type { Page, StreamReader } from '../stream-io.js';

const PAGE = 100;

/**
 * A JSONL file read in pages of 100 lines; the position is a byte offset, so a resumed sync
 * starts on the line after its checkpoint. A line that is not JSON becomes a reject, not a crash.
 */
export function jsonlReader(file: string): StreamReader {
  return {
    async *pages(from: string | null): AsyncGenerator<Page> {
      let offset = from === null ? 0 : Number(from);
      let row = 0;
      // Rows are counted from the file's start, so a resumed sync names the same rows.
      if (offset > 0) row = await countLines(file, offset);
      let page: Page = { records: [], next: null, rows: [], problems: new Map() };
      let rest = Buffer.alloc(0);
      for await (const chunk of createReadStream(file, { start: offset })) {
        rest = Buffer.concat([rest, chunk as Buffer]);
        let newline: number;
        while ((newline = rest.indexOf(10)) !== -1) {
          const line = rest.subarray(0, newline).toString('utf8').replace(/\r$/, '');
          rest = rest.subarray(newline + 1);
          offset += newline + 1;
          row += 1;
          if (line.trim() === '') continue;
          add(page, line, row);
          if (page.records.length === PAGE) {
            page.next = String(offset);
            yield page;
            page = { records: [], next: null, rows: [], problems: new Map() };
          }
        }
      }
      if (rest.length > 0 && rest.toString('utf8').trim() !== '') add(page, rest.toString('utf8'), row + 1);
      page.next = null;
      if (page.records.length > 0) yield page;
    },
  };
}

function add(page: Page, line: string, row: number): void {
  try {
    page.records.push(JSON.parse(line));
  } catch {
    page.problems!.set(page.records.length, `line ${row} is not valid JSON`);
    page.records.push(line.slice(0, 200));
  }
  page.rows!.push(row);
}

async function countLines(file: string, end: number): Promise<number> {
  let lines = 0;
  for await (const chunk of createReadStream(file, { start: 0, end: end - 1 })) {
    for (const byte of chunk as Buffer) if (byte === 10) lines += 1;
  }
  return lines;
}
