import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { ProviderRejectedError, ProviderUnavailableError } from '../../errors.js';
import type { OperationConfig } from '../../generated/connector-manifest.js';
import type { ProviderClient } from '../../http/provider-client.js';
import type { Collection } from '../../store/collection.js';
import { mapRecord } from '../map-record.js';
import { firstRendered, renderTemplate } from '../render-template.js';
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
  reject: (reject: Reject) => Promise<void>;
}

const ATTEMPTS = 5;
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
    for (const [i, record] of records.entries()) {
      const result = await this.writeOne(record, rows[i]);
      outcome[result] += 1;
    }
    return outcome;
  }

  async close(): Promise<void> {}

  private async writeOne(record: unknown, row: number | undefined): Promise<'sent' | 'rejected' | 'skipped'> {
    const { operation, params } = this.o;
    const body = mapRecord(record, this.o.mapping);
    const key = firstRendered(operation.recordKey, body, params) ?? `sha256:${createHash('sha256').update(JSON.stringify(body)).digest('hex')}`;
    const ledgerId = `${this.o.ledgerScope}:${createHash('sha256').update(`${this.o.operationName}\0${key}`).digest('hex').slice(0, 40)}`;
    const entry = await this.o.ledger.get(ledgerId);
    if (entry?.status === 'done' || entry?.status === 'rejected') return 'skipped';

    const refuse = async (reason: string, extra: Partial<Reject> = {}) => {
      await this.o.reject({ stream: this.o.stream, ...(row !== undefined ? { row } : {}), key, reason, record, ...extra });
      await this.o.ledger.put(ledgerId, { status: 'rejected', at: new Date().toISOString() });
      return 'rejected' as const;
    };
    if (!this.o.validate(body)) {
      const { reason, field } = describeBodyErrors(this.o.validate.errors ?? []);
      return refuse(reason, field ? { field } : {});
    }

    let uncertain = entry?.status === 'pending';
    for (let attempt = 1; ; attempt++) {
      if (uncertain && (await this.alreadyThere(body))) {
        await this.o.ledger.put(ledgerId, { status: 'done', at: new Date().toISOString() });
        return 'skipped';
      }
      await this.o.ledger.put(ledgerId, { status: 'pending', at: new Date().toISOString() });
      try {
        const path = renderTemplate(operation.path, body, params, encodeURIComponent)!;
        const response = await this.o.client.request({ method: operation.method, path, json: body });
        if (!operation.success.includes(response.status)) throw new ProviderUnavailableError(`${this.o.provider} answered ${operation.method} ${path} with ${response.status}`, { status: response.status });
        await this.o.ledger.put(ledgerId, { status: 'done', at: new Date().toISOString() });
        return 'sent';
      } catch (error) {
        if (error instanceof ProviderRejectedError) throw error; // 401/403: the whole sync stops
        const status = error instanceof ProviderUnavailableError ? error.status : undefined;
        // A 409 on a write that may have landed before is that earlier write, not a conflict.
        if (status === 409 && uncertain) {
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

  /** Asks the provider whether a write whose outcome is unknown landed; false when it cannot tell and re-sending is safe. */
  private async alreadyThere(body: unknown): Promise<boolean> {
    const lookup = firstRendered(this.o.operation.lookup, body, this.o.params, encodeURIComponent);
    if (!lookup) return false;
    try {
      await this.o.client.request({ method: 'GET', path: lookup });
      return true;
    } catch (error) {
      if (error instanceof ProviderUnavailableError && error.status === 404) return false;
      throw error;
    }
  }
}

function describeBodyErrors(errors: ErrorObject[]): { reason: string; field?: string } {
  const first = errors.find((e) => e.keyword === 'additionalProperties') ?? errors.find((e) => e.keyword === 'required') ?? errors[0];
  if (!first) return { reason: 'the record is not a valid request body' };
  if (first.keyword === 'required') {
    const field = `${first.instancePath}/${String(first.params.missingProperty)}`;
    return { reason: `${field} is required`, field };
  }
  if (first.keyword === 'additionalProperties') {
    const field = `${first.instancePath}/${String(first.params.additionalProperty)}`;
    return { reason: `${field} is not a field of the request body (unknown field)`, field };
  }
  const field = first.instancePath || '/';
  return { reason: `${field} ${first.message ?? 'is not valid'}`, field };
}
