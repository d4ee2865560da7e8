import type { CredentialTile } from '../generated/credential-tile.js';
import type { Reach } from '../http/outbound-policy.js';
import type { SealedSecret, Sealer } from '../keys/sealer.js';
import type { Marked } from '../webhooks/outbox.js';

/** What the store holds: the tile's fields, the sealed secret and the origin it may go to. */
export interface CredentialRecord extends Omit<CredentialTile, 'revision'>, Marked {
  v: 1;
  sealed: SealedSecret;
  /** Revision: each change adds one, written only over the revision it was made from (no lost updates). */
  rev?: number;
  /**
   * Who set the base URL: the operator (its own rule) or a tenant (the outbound policy's). Absent
   * in records from before the policy: a tenant's when the record is in a workspace of its own.
   */
  baseUrlBy?: Reach;
  /**
   * What found it refused (with invalidAt): `credential.invalidated` says it, and a recovery after a
   * crash rebuilds that event from the record alone. Not on the tile; gone once verified or rotated.
   */
  invalidCause?: 'test' | 'reverify' | 'sync' | 'policy';
}

/** The public view, built field by field so a new record field never leaks onto a tile by accident. */
export function toTile(record: CredentialRecord): CredentialTile {
  const tile: CredentialTile = {
    id: record.id,
    ...(record.workspace !== undefined ? { workspace: record.workspace } : {}),
    connector: record.connector,
    name: record.name,
    status: record.status,
    revision: record.rev ?? 0,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
  if (record.description !== undefined) tile.description = record.description;
  if (record.baseUrl !== undefined) tile.baseUrl = record.baseUrl;
  if (record.endUserId !== undefined) tile.endUserId = record.endUserId;
  if (record.secretHint !== undefined) tile.secretHint = record.secretHint;
  if (record.identity !== undefined) tile.identity = { ...record.identity };
  if (record.verifiedAt !== undefined) tile.verifiedAt = record.verifiedAt;
  if (record.invalidAt !== undefined) tile.invalidAt = record.invalidAt;
  if (record.invalidReason !== undefined) tile.invalidReason = record.invalidReason;
  return tile;
}

/** At most the last 4 characters, and only of secrets long enough that 4 reveal little. */
export function secretHint(secret: string): string | undefined {
  return secret.length >= 16 ? secret.slice(-4) : undefined;
}

/** The record's secret sealed again under `sealer`'s key, bound to the same record (a key rotation, a late write). */
export function resealed(record: CredentialRecord, sealer: Sealer): SealedSecret {
  const data = associatedData(record);
  return sealer.seal(sealer.open(record.sealed, data, `credential ${record.id}`), data);
}

/**
 * What the ciphertext is bound to: the record, its connector, the origin the secret may go to and its workspace.
 * Changing any of them in the store (pointing the token at another server) makes it fail to open.
 */
export function associatedData(record: Pick<CredentialRecord, 'id' | 'connector' | 'baseUrl' | 'workspace'>): string {
  const bound = ['credport:credential:v1', record.id, record.connector, record.baseUrl ?? null];
  // Moving a record to another workspace in the store must break its seal too; records from before
  // workspaces were sealed without one, and still open.
  return JSON.stringify(record.workspace === undefined ? bound : [...bound, record.workspace]);
}
