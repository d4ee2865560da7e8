import type Keyv from 'keyv';
import { StoreError } from '../errors.js';
import { type Scan, unusable } from './open-keyv.js';

/**
 * One kind of record in keyv under a key prefix, one key per record written whole: concurrent
 * writers of different records never lose each other's writes. `check` names a damaged record.
 */
export class Collection<T extends object> {
  constructor(
    private readonly keyv: Keyv,
    private readonly uri: string,
    private readonly prefix: string,
    private readonly check: (value: unknown, id: string) => T,
    /** The backend's own listing query, where it has one. */
    private readonly scan?: Scan,
  ) {}

  async get(id: string): Promise<T | undefined> {
    const raw = await this.call(() => this.keyv.get<unknown>(this.prefix + id));
    return raw === undefined ? undefined : this.check(raw, id);
  }

  /** Several records in one store query. */
  async getMany(ids: string[]): Promise<(T | undefined)[]> {
    if (ids.length === 0) return [];
    const raws = await this.call(() => this.keyv.get<unknown>(ids.map((id) => this.prefix + id)));
    return (raws as unknown[]).map((raw, i) => (raw === undefined || raw === null ? undefined : this.check(raw, ids[i]!)));
  }

  async put(id: string, value: T): Promise<void> {
    await this.call(() => this.keyv.set(this.prefix + id, value));
  }

  async delete(id: string): Promise<boolean> {
    return this.call(() => this.keyv.delete(this.prefix + id));
  }

  /** Every record, as one array: callers sort or filter them all, and per-row async steps cost more than the rows. */
  async all(): Promise<T[]> {
    return this.list();
  }

  /** The records whose top-level `field` equals a value; the backend filters where it can. */
  async where(field: keyof T & string, equals: string): Promise<T[]> {
    return this.list({ field, equals });
  }

  private async list(where?: { field: string; equals: string }): Promise<T[]> {
    try {
      if (this.scan) return (await this.scan(this.prefix, where)).map(([id, value]) => this.check(value, id));
      if (!this.keyv.iterator) throw new StoreError('store_unavailable', `store ${this.uri} cannot list its records`);
      const records: T[] = [];
      for await (const [key, value] of this.keyv.iterator(undefined)) {
        if (typeof key !== 'string' || !key.startsWith(this.prefix)) continue;
        const record = this.check(value, key.slice(this.prefix.length));
        if (!where || (record as Record<string, unknown>)[where.field] === where.equals) records.push(record);
      }
      return records;
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw unusable(this.uri, error);
    }
  }

  protected async call<R>(operation: () => Promise<R>): Promise<R> {
    try {
      return await operation();
    } catch (error) {
      throw unusable(this.uri, error);
    }
  }
}

export function damaged(kind: string, id: string, why: string, fix: string): StoreError {
  return new StoreError('corrupt_record', `${kind} ${id} in the store is damaged: ${why}; ${fix}`);
}
