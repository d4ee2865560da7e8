/**
 * One page as a reader yields it: records, the position after it, and lines it could not parse.
 * The engine empties it once written (its records die young), so a reader never reuses one it yielded.
 */
export interface Page {
  records: unknown[];
  /** Where the next page starts (a URL, a byte offset); null after the last page. */
  next: string | null;
  /** Source row (1-based line number) of each record, for files. */
  rows?: number[];
  /** Index in records -> why that row is no record (not JSON): goes to the rejects file. */
  problems?: Map<number, string>;
}

export interface StreamReader {
  /** Pages from a checkpointed position, or from the start when null. */
  pages(from: string | null): AsyncGenerator<Page>;
}

export interface WriteOutcome {
  /** Bytes of the destination file the checkpoint may vouch for (file writers). */
  offset?: number;
  sent: number;
  rejected: number;
  /** Already written by an earlier run (the ledger says so). */
  skipped: number;
}

export interface StreamWriter {
  write(records: unknown[], rows: (number | undefined)[]): Promise<WriteOutcome>;
  close(): Promise<void>;
}

export interface Reject {
  stream: string;
  row?: number;
  key?: string;
  reason: string;
  field?: string;
  status?: number;
  record: unknown;
}
