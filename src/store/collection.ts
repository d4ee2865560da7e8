import { StoreError } from '../errors.js';
import { matches, type StoreAccess, unusable, type Where } from './backend.js';

/** A lease a fenced write depends on: its key (a collection prefix and id), the token held, and what to say once it is lost. */
export interface Fence {
  key: string;
  token: number;
  lost(): string;
}

/** A record that carries its revision: each write that replaces it adds one. */
export interface Revised {
  rev?: number;
}

/** How a read-modify-swap retries: how many tries in all, and what it throws once the last one lost its race. */
export interface SwapRetries {
  /** Tries in all, the first included: 1 refuses at the first lost race. */
  attempts: number;
  /** The refusal once every try lost, in the caller's words: nothing was written by this change. */
  conflict: () => Error;
}

/** The store steps of a read-modify-swap on one record. */
export interface SwapSteps<T extends Revised> {
  read(): Promise<T | undefined>;
  /** Writes `value` only over revision `expected`; false when another write came first. */
  swap(value: T, expected: number): Promise<boolean>;
  /** Writes a record where none is yet; false when another came first. Without it, a missing record is a lost race. */
  insert?(value: T): Promise<boolean>;
}

/** What a read-modify-swap came to: the record as it stands, the one it replaced (undefined: it inserted), whether it wrote. */
export interface Swapped<T> {
  record: T;
  before: T | undefined;
  written: boolean;
}

/**
 * Reads a record, decides its next value, and writes it over the revision read (`rev` is set
 * here). When another writer came in between, it reads again and decides again on what that one
 * saved, so neither change is lost; after `attempts` lost races it throws `conflict()`. `decide`
 * gets the record (undefined: none yet, written by insert) and the try's number, and returns the
 * value to write, undefined to write nothing, or throws to refuse.
 */
export async function readModifySwap<T extends Revised>(
  steps: SwapSteps<T>,
  decide: (current: T | undefined, attempt: number) => T | undefined,
  retries: SwapRetries,
): Promise<Swapped<T>> {
  for (let attempt = 1; attempt <= retries.attempts; attempt++) {
    if (attempt > 1) await pause(attempt - 1);
    const current = await steps.read();
    const next = decide(current, attempt);
    if (next === undefined) {
      if (current === undefined) throw new Error('a read-modify-swap decided to write nothing where there is no record');
      return { record: current, before: current, written: false };
    }
    if (current === undefined) {
      if (await steps.insert?.(next)) return { record: next, before: undefined, written: true };
      continue;
    }
    const expected = current.rev ?? 0;
    const written = { ...next, rev: expected + 1 };
    if (await steps.swap(written, expected)) return { record: written, before: current, written: true };
  }
  throw retries.conflict();
}

/** After the n-th lost race: random and growing (to 20 ms), so writers that collided do not collide again in lockstep. */
function pause(lost: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 * lost, 20)));
}

/**
 * One kind of record in keyv under a key prefix, one key per record written whole: concurrent
 * writers of different records never lose each other's writes. `check` names a damaged record.
 */
export class Collection<T extends object> {
  constructor(
    private readonly store: StoreAccess,
    private readonly prefix: string,
    private readonly check: (value: unknown, id: string) => T,
    /** A field whose value never changes (a tile's connector), listed from its group where the backend keeps groups. */
    private readonly groupField?: keyof T & string,
    /** Set on a fenced view: its writes land only while this lease holds this token. */
    private readonly fence?: Fence,
    /** Much of the store is this kind (credentials, audit events): listed whole, the backend reads it in table order (Scan). */
    private readonly bulk = false,
  ) {}

  /**
   * The same records, written only while `fence` holds: a sync that lost its destination's lease
   * (stalled past its expiry, then taken over) cannot write one more checkpoint or ledger entry.
   */
  fencedBy(fence: Fence): Collection<T> {
    return new Collection(this.store, this.prefix, this.check, this.groupField, fence, this.bulk);
  }

  async get(id: string): Promise<T | undefined> {
    const raw = await this.call(() => this.store.keyv.get<unknown>(this.prefix + id));
    return raw === undefined ? undefined : this.check(raw, id);
  }

  /** Several records in one store query. */
  async getMany(ids: string[]): Promise<(T | undefined)[]> {
    if (ids.length === 0) return [];
    const raws = await this.call(() => this.store.keyv.get<unknown>(ids.map((id) => this.prefix + id)));
    return (raws as unknown[]).map((raw, i) => (raw === undefined || raw === null ? undefined : this.check(raw, ids[i]!)));
  }

  async put(id: string, value: T): Promise<void> {
    // Into its group before the record is written: a crash in between leaves a member without a record, which listing skips.
    const group = this.groupOf(value);
    if (group !== undefined) await this.call(() => this.store.groups!.add(this.prefix, this.groupField!, group, id));
    if (this.fence) return this.putFenced(id, value, this.fence);
    await this.call(() => this.store.keyv.set(this.prefix + id, value));
  }

  /** Writes a record only if none is there yet; true if this call wrote it. */
  async insert(id: string, value: T): Promise<boolean> {
    // Into its group first, as put does: a record inserted outside its group would never be listed by it (Redis).
    const group = this.groupOf(value);
    if (group !== undefined) await this.call(() => this.store.groups!.add(this.prefix, this.groupField!, group, id));
    if (this.store.insert) return this.call(() => this.store.insert!(this.prefix + id, JSON.stringify({ value })));
    if ((await this.get(id)) !== undefined) return false;
    await this.call(() => this.store.keyv.set(this.prefix + id, value));
    return true;
  }

  private async putFenced(id: string, value: T, fence: Fence): Promise<void> {
    const text = JSON.stringify({ value });
    const landed = this.store.fencedPut
      ? await this.call(() => this.store.fencedPut!(this.prefix + id, text, fence.key, fence.token))
      : // A plain keyv (tests, an in-memory store): one process, so check-then-write is enough.
        (await this.call(() => this.store.keyv.get<{ token?: number }>(fence.key)))?.token === fence.token &&
        (await this.call(() => this.store.keyv.set(this.prefix + id, value)));
    if (!landed) throw new StoreError('lease_lost', fence.lost());
  }

  /**
   * Writes `value` only if the stored record is still at revision `expected` (a record without one
   * is at 0), in one step on the backend: of two processes that read the same revision, one wins
   * and the other learns it lost (false), so neither overwrites the other's change unseen.
   */
  async swap(id: string, value: T & Revised, expected: number): Promise<boolean> {
    const text = JSON.stringify({ value });
    if (this.store.swap) return this.call(() => this.store.swap!(this.prefix + id, text, expected));
    // A plain keyv (tests, an in-memory store): one process, so read-compare-write is enough.
    const now = (await this.get(id)) as (T & Revised) | undefined;
    if (!now || (now.rev ?? 0) !== expected) return false;
    await this.put(id, value);
    return true;
  }

  /** readModifySwap on the record `id`: the collection's own get, insert and swap, so it holds on every backend. */
  async change(
    id: string,
    decide: (current: T | undefined, attempt: number) => T | undefined,
    retries: SwapRetries,
  ): Promise<Swapped<T & Revised>> {
    const steps: SwapSteps<T & Revised> = {
      read: () => this.get(id) as Promise<(T & Revised) | undefined>,
      swap: (value, expected) => this.swap(id, value, expected),
      insert: (value) => this.insert(id, value),
    };
    return readModifySwap(steps, decide as (current: (T & Revised) | undefined, attempt: number) => (T & Revised) | undefined, retries);
  }

  /**
   * Inserts of many records (in one server step where the backend has one): a record already there
   * keeps its value, so doing it again after a crash writes nothing twice.
   */
  async insertMany(items: [id: string, value: T][]): Promise<void> {
    if (items.length === 0) return;
    if (this.store.groups && this.groupField)
      for (const [id, value] of items) {
        const group = this.groupOf(value);
        if (group !== undefined) await this.call(() => this.store.groups!.add(this.prefix, this.groupField!, group, id));
      }
    if (this.store.insertMany) {
      await this.call(() =>
        this.store.insertMany!(items.map(([id, value]) => ({ key: this.prefix + id, text: JSON.stringify({ value }) }))),
      );
      return;
    }
    for (const [id, value] of items) await this.insert(id, value);
  }

  /** Deletes of many records in one store call; `groupOf` names each one's group where the collection keeps groups. */
  async deleteMany(ids: string[], groupOf?: (id: string) => string | undefined): Promise<void> {
    if (ids.length === 0) return;
    await this.call(() => this.store.keyv.delete(ids.map((id) => this.prefix + id)));
    if (this.store.groups && this.groupField && groupOf)
      for (const id of ids) {
        const group = groupOf(id);
        if (group !== undefined) await this.call(() => this.store.groups!.remove(this.prefix, this.groupField!, group, id));
      }
  }

  /**
   * The first `limit` records in id order whose id starts with `within` (and whose field equals a
   * value, with `where`): a slice of a burst, never the whole of it in memory. Damaged ones are left out.
   */
  async first(limit: number, options: { where?: Where; within?: string } = {}): Promise<T[]> {
    checkField(options.where);
    const page = { limit, ...(options.within !== undefined ? { within: options.within } : {}) };
    const rows = await this.call(async () => {
      if (this.store.scan) return this.store.scan(this.prefix, options.where, false, page);
      const out: [string, unknown][] = [];
      const start = this.prefix + (options.within ?? '');
      for await (const [key, value] of this.store.keyv.iterator!(undefined))
        if (typeof key === 'string' && key.startsWith(start) && (!options.where || matches(value, options.where)))
          out.push([key.slice(this.prefix.length), value]);
      return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, limit);
    });
    return rows.flatMap(([id, value]) => {
      try {
        return [this.check(value, id)];
      } catch (error) {
        if (error instanceof StoreError) return [];
        throw error;
      }
    });
  }

  /** Many swaps, in one server step where the backend has one (Redis pipelines them); true for each that landed. */
  async swapMany(items: { id: string; value: T & Revised; expected: number }[]): Promise<boolean[]> {
    if (this.store.swapMany)
      return this.call(() =>
        this.store.swapMany!(
          items.map((i) => ({ key: this.prefix + i.id, text: JSON.stringify({ value: i.value }), expected: i.expected })),
        ),
      );
    return Promise.all(items.map((i) => this.swap(i.id, i.value, i.expected)));
  }

  async delete(id: string): Promise<boolean> {
    // Only a backend that keeps groups needs the record's group before it goes: no extra read elsewhere.
    const group = this.store.groups && this.groupField ? this.groupOf(await this.get(id).catch(() => undefined)) : undefined;
    const deleted = await this.call(() => this.store.keyv.delete(this.prefix + id));
    if (group !== undefined) await this.call(() => this.store.groups!.remove(this.prefix, this.groupField!, group, id));
    return deleted;
  }

  /** Every record, as one array: callers sort or filter them all, and per-row async steps cost more than the rows. */
  async all(): Promise<T[]> {
    return this.list();
  }

  /** Every record by id, a damaged one as the error that names it: for a sweep over all that must not stop at one. */
  async entries(where?: Where): Promise<[string, T | StoreError][]> {
    checkField(where);
    const rows = await this.call(async () => {
      if (this.store.scan) return this.store.scan(this.prefix, where, false, undefined, this.bulk);
      const out: [string, unknown][] = [];
      for await (const [key, value] of this.store.keyv.iterator!(undefined)) {
        if (typeof key === 'string' && key.startsWith(this.prefix) && (!where || matches(value, where)))
          out.push([key.slice(this.prefix.length), value]);
      }
      return out;
    });
    return rows.map(([id, value]): [string, T | StoreError] => {
      try {
        return [id, this.check(value, id)];
      } catch (error) {
        if (error instanceof StoreError) return [id, error];
        throw error;
      }
    });
  }

  /** The records whose top-level `field` equals a value; the backend filters where it can. */
  async where(field: keyof T & string, equals: string): Promise<T[]> {
    return this.list({ field, equals });
  }

  /** The group of a record where the backend keeps groups (Redis), else undefined. */
  private groupOf(value: T | undefined): string | undefined {
    if (!this.store.groups || !this.groupField) return undefined;
    const group = (value as Record<string, unknown> | undefined)?.[this.groupField];
    return typeof group === 'string' ? group : undefined;
  }

  private async list(where?: { field: string; equals: string }): Promise<T[]> {
    checkField(where);
    try {
      const { scan, keyv } = this.store;
      const grouped = where !== undefined && this.store.groups !== undefined && where.field === this.groupField;
      if (scan) return (await scan(this.prefix, where, grouped, undefined, this.bulk)).map(([id, value]) => this.check(value, id));
      if (!keyv.iterator) throw new StoreError('store_unavailable', `store ${this.store.shown} cannot list its records`);
      const records: T[] = [];
      for await (const [key, value] of keyv.iterator(undefined)) {
        if (typeof key !== 'string' || !key.startsWith(this.prefix)) continue;
        const record = this.check(value, key.slice(this.prefix.length));
        if (!where || (record as Record<string, unknown>)[where.field] === where.equals) records.push(record);
      }
      return records;
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw unusable(this.store.shown, error);
    }
  }

  protected async call<R>(operation: () => Promise<R>): Promise<R> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw unusable(this.store.shown, error);
    }
  }
}

/** Field names become JSON paths in the backends' queries: plain names only (a code error otherwise). */
function checkField(where: Where | undefined): void {
  if (where && !/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(where.field)) throw new Error(`not a field name: ${where.field}`);
}

export function damaged(kind: string, id: string, why: string, fix: string): StoreError {
  return new StoreError('corrupt_record', `${kind} ${id} in the store is damaged: ${why}; ${fix}`);
}
