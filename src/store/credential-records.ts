import type { CredentialRecord } from '../credentials/credential-record.js';
import { Collection, damaged } from './collection.js';
import type { StoreAccess } from './backend.js';

/** Credential records: tile fields plus the sealed secret. */
export class CredentialRecords extends Collection<CredentialRecord> {
  constructor(private readonly access: StoreAccess) {
    super(access, 'credential:', checked, 'connector', undefined, true);
  }

  async getMeta<T>(name: string): Promise<T | undefined> {
    return this.call(() => this.access.keyv.get<T>(`meta:${name}`));
  }

  async setMeta(name: string, value: unknown): Promise<void> {
    await this.call(() => this.access.keyv.set(`meta:${name}`, value));
  }

  /** Writes a meta record only over the revision (`rev`, 0 when absent) it was read at; false if another write came first. */
  async swapMeta(name: string, value: { rev?: number }, expected: number): Promise<boolean> {
    if (this.access.swap) return this.call(() => this.access.swap!(`meta:${name}`, JSON.stringify({ value }), expected));
    // A plain keyv (tests, an in-memory store): one process, so read-compare-write is enough.
    if (((await this.getMeta<{ rev?: number }>(name))?.rev ?? 0) !== expected) return false;
    await this.setMeta(name, value);
    return true;
  }
}

function checked(value: unknown, id: string): CredentialRecord {
  const record = value as Partial<CredentialRecord> | null;
  const sealed = record?.sealed as unknown as Record<string, unknown> | undefined;
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
    ['kid', 'iv', 'tag', 'ct'].every((k) => typeof sealed[k] === 'string');
  if (!ok)
    throw damaged(
      'credential',
      id,
      'it is not a credential record (not JSON, or fields missing or of the wrong type)',
      `delete it with: credport credentials delete ${id}`,
    );
  return record as CredentialRecord;
}
