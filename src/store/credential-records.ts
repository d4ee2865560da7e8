import type Keyv from 'keyv';
import type { CredentialRecord } from '../credentials/credential-record.js';
import { StoreError } from '../errors.js';
import { unusable } from './open-keyv.js';

const PREFIX = 'credential:';

/** Credential records in keyv: one key per credential, written whole, so concurrent writers never lose each other's records. */
export class CredentialRecords {
  constructor(
    private readonly keyv: Keyv,
    private readonly uri: string,
  ) {}

  async get(id: string): Promise<CredentialRecord | undefined> {
    const raw = await this.call(() => this.keyv.get<unknown>(PREFIX + id), id);
    return raw === undefined ? undefined : checked(raw, id);
  }

  async put(record: CredentialRecord): Promise<void> {
    await this.call(() => this.keyv.set(PREFIX + record.id, record), record.id);
  }

  async delete(id: string): Promise<boolean> {
    return this.call(() => this.keyv.delete(PREFIX + id), id);
  }

  /** Every record, as one array: a listing needs them all to sort, and per-row async steps cost more than the rows. */
  async all(): Promise<CredentialRecord[]> {
    try {
      if (!this.keyv.iterator) throw new StoreError('store_unavailable', `store ${this.uri} cannot list its records`);
      const records: CredentialRecord[] = [];
      for await (const [key, value] of this.keyv.iterator(undefined)) {
        if (typeof key === 'string' && key.startsWith(PREFIX)) records.push(checked(value, key.slice(PREFIX.length)));
      }
      return records;
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw unusable(this.uri, error);
    }
  }

  async getMeta<T>(name: string): Promise<T | undefined> {
    return this.call(() => this.keyv.get<T>(`meta:${name}`), `meta:${name}`);
  }

  async setMeta(name: string, value: unknown): Promise<void> {
    await this.call(() => this.keyv.set(`meta:${name}`, value), `meta:${name}`);
  }

  private async call<T>(operation: () => Promise<T>, id: string): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw unusable(this.uri, error);
    }
  }
}

function checked(value: unknown, id: string): CredentialRecord {
  const record = value as Partial<CredentialRecord> | null;
  const sealed = record?.sealed;
  const ok =
    record !== null &&
    typeof record === 'object' &&
    record.v === 1 &&
    record.id === id &&
    typeof record.connector === 'string' &&
    typeof record.name === 'string' &&
    typeof record.status === 'string' &&
    typeof sealed === 'object' &&
    sealed !== null &&
    ['kid', 'iv', 'tag', 'ct'].every((k) => typeof (sealed as unknown as Record<string, unknown>)[k] === 'string');
  if (!ok) throw corrupt(id, 'it is not a credential record (not JSON, or fields missing or of the wrong type)');
  return record as CredentialRecord;
}

function corrupt(id: string, why: string): StoreError {
  return new StoreError('corrupt_record', `credential ${id} in the store is damaged: ${why}; delete it with: credport credentials delete ${id}`);
}
