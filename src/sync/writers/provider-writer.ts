import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ValidateFunction } from 'ajv';
import { ProviderRejectedError, ProviderUnavailableError } from '../../errors.js';
import type { OperationConfig } from '../../generated/connector-manifest.js';
import type { ProviderClient } from '../../http/provider-client.js';
import type { Collection } from '../../store/collection.js';
import { PointerError } from '../../text/json-pointer.js';
import { mapRecord } from '../map-record.js';
import { encodePathValue, firstRendered, renderTemplate } from '../render-template.js';
import { describeBodyErrors } from './describe-body-errors.js';
import type { Reject, StreamWriter, WriteOutcome } from '../stream-io.js';

/** What the write ledger remembers of one record: sent (done), refused (rejected), or in flight (pending). */
export interface LedgerEntry {
  status: 'pending' | 'done' | 'rejected';
  at: string;
}

export interface ProviderWriterOptions {
  client: ProviderClient;
  provider: string;
  stream: string;
  operationName: string;
  operation: OperationConfig;
  validate: ValidateFunction;
  mapping: Record<string, string> | undefined;
  params: Record<string, string>;
  ledger: Collection<LedgerEntry>;
  /** Ledger keys are scoped to the destination: the same contact from two sources is still created once. */
  ledgerScope: string;
  /**
   * Other streams of this run write with the same operation, so they may carry the same record:
   * its ledger entry is read under the key's lock, not from the page's read made before it.
   */
  sharedKeys?: boolean;
  reject: (reject: Reject) => Promise<void>;
}

const ATTEMPTS = 5;
// Records of one page written at once; the per-credential rate gate still paces them.
const WRITES_IN_FLIGHT = 4;

interface Prepared {
  record: unknown;
  row: number | undefined;
  body: unknown;
  key: string;
  ledgerId: string;
  /** Why the record cannot become a body at all (its mapping was refused): it is rejected unsent. */
  refusal?: { reason: string; field: string };
}
// A refusal of the record itself: it goes to the rejects file and the sync goes on.
const RECORD_REFUSALS = new Set([400, 404, 409, 413, 422]);

/**
 * Writes each record with one provider operation, exactly once across kills and reruns: a ledger
 * entry is marked pending before the request and done after it. A pending entry found later is a
 * write whose outcome is unknown; it is checked with the provider (a lookup) or re-sent only where
 * that is safe (the provider deduplicates, or a 409 then proves the earlier attempt landed).
 */
export class ProviderWriter implements StreamWriter {
  constructor(private readonly o: ProviderWriterOptions) {}

  async write(records: unknown[], rows: (number | undefined)[]): Promise<WriteOutcome> {
    const outcome: WriteOutcome = { sent: 0, rejected: 0, skipped: 0 };
    const prepared = records.map((record, i) => this.prepare(record, rows[i]));
    // One store query for the page's ledger entries (read per record instead when keys are shared), then a few records in flight at once.
    const entries = this.o.sharedKeys ? [] : await this.o.ledger.getMany(prepared.map((p) => p.ledgerId));
    const seen = new Set<string>();
    await inParallel(WRITES_IN_FLIGHT, prepared, async (p, i) => {
      // The same record twice in one page is one record: the second waits for nothing and is skipped.
      if (seen.has(p.ledgerId)) {
        outcome.skipped += 1;
        return;
      }
      seen.add(p.ledgerId);
      // Another stream of this run may write the same key: one at a time, each reading the ledger the other left.
      const result = this.o.sharedKeys
        ? await oneAtATime(p.ledgerId, async () => this.writeOne(p, await this.o.ledger.get(p.ledgerId)))
        : await this.writeOne(p, entries[i]);
      outcome[result] += 1;
    });
    return outcome;
  }

  async close(): Promise<void> {}

  private prepare(record: unknown, row: number | undefined): Prepared {
    try {
      const body = mapRecord(record, this.o.mapping);
      const key = firstRendered(this.o.operation.recordKey, body, this.o.params) ?? sha256Key(body);
      return { record, row, body, key, ledgerId: this.ledgerId(key) };
    } catch (error) {
      // A pointer json-pointer.ts refuses (a mapping saved by an older release with a `__proto__`
      // segment): nothing is set through it, and the record goes to the rejects file.
      if (!(error instanceof PointerError)) throw error;
      const key = sha256Key(record);
      return {
        record,
        row,
        body: undefined,
        key,
        ledgerId: this.ledgerId(key),
        refusal: { reason: `the destination's mapping cannot be applied: ${error.message}`, field: error.pointer },
      };
    }
  }

  private ledgerId(key: string): string {
    return `${this.o.ledgerScope}:${createHash('sha256').update(`${this.o.operationName}\0${key}`).digest('hex').slice(0, 40)}`;
  }

  private async writeOne(
    { record, row, body, key, ledgerId, refusal }: Prepared,
    entry: LedgerEntry | undefined,
  ): Promise<'sent' | 'rejected' | 'skipped'> {
    const { operation, params } = this.o;
    if (entry?.status === 'done' || entry?.status === 'rejected') return 'skipped';

    const refuse = async (reason: string, extra: Partial<Reject> = {}) => {
      await this.o.reject({ stream: this.o.stream, ...(row !== undefined ? { row } : {}), key, reason, record, ...extra });
      await this.o.ledger.put(ledgerId, { status: 'rejected', at: new Date().toISOString() });
      return 'rejected' as const;
    };
    if (refusal) return refuse(refusal.reason, { field: refusal.field });
    if (!this.o.validate(body)) {
      const { reason, field } = describeBodyErrors(this.o.validate.errors ?? []);
      return refuse(reason, field ? { field } : {});
    }

    let path: string | undefined;
    try {
      path = renderTemplate(operation.path, body, params, encodePathValue);
    } catch (error) {
      return refuse((error as Error).message);
    }
    // A path field the record lacks (or a parameter the destination lacks) would send the request nowhere.
    if (path === undefined)
      return refuse(
        `the request path ${operation.path} needs a value (text or a number) that neither the record nor the destination's parameters give`,
      );
    let uncertain = entry?.status === 'pending';
    for (let attempt = 1; ; attempt++) {
      if (uncertain) {
        const there = await this.alreadyThere(body);
        if (there === true) {
          await this.o.ledger.put(ledgerId, { status: 'done', at: new Date().toISOString() });
          return 'skipped';
        }
        // Nobody can tell whether the earlier attempt created it: sending again could duplicate it.
        if (there === undefined && !operation.providerDeduplicates && !operation.conflictMeansLanded) {
          return refuse(
            `outcome unknown: an earlier attempt may have created it, and ${this.o.provider} offers no way to check; check it ` +
              `there, then remove this row or send it again with a new destination`,
            { status: 0 },
          );
        }
      }
      await this.o.ledger.put(ledgerId, { status: 'pending', at: new Date().toISOString() });
      try {
        // Any 2xx means it landed (a status outside `success` is the provider's choice, not a failure).
        await this.o.client.request({ method: operation.method, path, json: body });
        await this.o.ledger.put(ledgerId, { status: 'done', at: new Date().toISOString() });
        return 'sent';
      } catch (error) {
        if (error instanceof ProviderRejectedError) throw error; // 401/403: the whole sync stops
        const status = error instanceof ProviderUnavailableError ? error.status : undefined;
        // A 409 on a write that may have landed before is that earlier write, where the provider says so.
        if (status === 409 && uncertain && operation.conflictMeansLanded) {
          await this.o.ledger.put(ledgerId, { status: 'done', at: new Date().toISOString() });
          return 'skipped';
        }
        if (status !== undefined && RECORD_REFUSALS.has(status)) return refuse((error as Error).message, { status });
        // 5xx, timeout, network: the write may or may not have happened.
        const refusedBeforeSending = (error as ProviderUnavailableError).message?.includes('ECONNREFUSED');
        uncertain = uncertain || !refusedBeforeSending;
        if (attempt >= ATTEMPTS) throw error;
        await sleep(Math.random() * Math.min(10_000, 250 * 2 ** attempt));
      }
    }
  }

  /** Asks the provider whether a write whose outcome is unknown landed; undefined when it cannot be asked. */
  private async alreadyThere(body: unknown): Promise<boolean | undefined> {
    let lookup: string | undefined;
    try {
      lookup = firstRendered(this.o.operation.lookup, body, this.o.params, encodePathValue);
    } catch {
      return undefined;
    }
    if (!lookup) return undefined;
    try {
      await this.o.client.request({ method: 'GET', path: lookup });
      return true;
    } catch (error) {
      if (error instanceof ProviderUnavailableError && error.status === 404) return false;
      throw error;
    }
  }
}

function sha256Key(value: unknown): string {
  return `sha256:${createHash('sha256')
    .update(JSON.stringify(value) ?? '')
    .digest('hex')}`;
}

/**
 * Writes of one ledger key in this process, one after the other: streams synced side by side may
 * carry the same record (a contact in two lists), and the second must read the ledger the first
 * left, not the one both read before either wrote.
 */
const writing = new Map<string, Promise<unknown>>();

async function oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
  const before = writing.get(key);
  const mine = (before?.catch(() => undefined) ?? Promise.resolve()).then(work);
  writing.set(key, mine);
  try {
    return await mine;
  } finally {
    if (writing.get(key) === mine) writing.delete(key);
  }
}

/** Runs work over items with at most `limit` at once; the first failure stops the rest from starting. */
async function inParallel<T>(limit: number, items: T[], work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        await work(items[index]!, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
