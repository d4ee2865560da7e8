import { constants, createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { FileScope } from '../file-scope.js';
import type { Page, StreamReader } from '../stream-io.js';

const PAGE = 100;
/** A longer line is refused as a row, not buffered without end (a file with no newline at all, say). */
const MAX_LINE_BYTES = 16 * 1024 * 1024;

/**
 * A JSONL file read in pages of 100 lines; the position is a byte offset, so a resumed sync
 * starts on the line after its checkpoint. A line that is not JSON becomes a reject naming its
 * row (never its content: the file may not be what it seems). Symbolic links are not followed, and
 * a tenant's file must still be inside its workspace folder when it is opened (the scope checks).
 */
export function jsonlReader(file: string, scope: FileScope = FileScope.operator): StreamReader {
  return {
    async *pages(from: string | null): AsyncGenerator<Page> {
      let offset = from === null ? 0 : Number(from);
      const handle = await scope.open(file, constants.O_RDONLY);
      // Rows are counted from the file's start (through the same handle: the path may point elsewhere by now), so a resumed sync names the same rows.
      let row = offset > 0 ? await countLines(handle, offset) : 0;
      let page = newPage();
      let parts: Buffer[] = []; // the current line so far, scanned once per chunk
      let partBytes = 0;
      let oversized = false;
      const finishLine = (length: number) => {
        row += 1;
        if (oversized) addProblem(page, row, `line ${row} is longer than ${MAX_LINE_BYTES} bytes`);
        else if (length > 0) add(page, Buffer.concat(parts).toString('utf8').replace(/\r$/, ''), row);
        [parts, partBytes, oversized] = [[], 0, false];
      };
      try {
        for await (const chunk of createReadStream('', { fd: handle.fd, start: offset, autoClose: false }) as AsyncIterable<Buffer>) {
          let start = 0;
          for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
            const piece = chunk.subarray(start, newline);
            if (!oversized) parts.push(piece);
            const length = partBytes + piece.length;
            offset += piece.length + 1;
            start = newline + 1;
            finishLine(length);
            if (page.records.length === PAGE) {
              page.next = String(offset);
              yield page;
              page = newPage();
            }
          }
          const rest = chunk.subarray(start);
          offset += rest.length;
          partBytes += rest.length;
          if (partBytes > MAX_LINE_BYTES) [oversized, parts] = [true, []];
          else parts.push(rest);
        }
        if (partBytes > 0 || oversized) finishLine(partBytes);
        page.next = null;
        if (page.records.length > 0) yield page;
      } finally {
        await handle.close();
      }
    },
  };
}

function newPage(): Page {
  return { records: [], next: null, rows: [], problems: new Map() };
}

function add(page: Page, line: string, row: number): void {
  if (line.trim() === '') return;
  try {
    page.records.push(JSON.parse(line));
    page.rows!.push(row);
  } catch {
    addProblem(page, row, `line ${row} is not valid JSON`);
  }
}

function addProblem(page: Page, row: number, problem: string): void {
  page.problems!.set(page.records.length, problem);
  page.records.push(null); // the row's content stays out of the rejects file
  page.rows!.push(row);
}

async function countLines(handle: FileHandle, end: number): Promise<number> {
  let lines = 0;
  for await (const chunk of createReadStream('', { fd: handle.fd, start: 0, end: end - 1, autoClose: false }) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
  }
  return lines;
}
