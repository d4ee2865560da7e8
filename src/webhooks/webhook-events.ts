import { DEFAULT_WORKSPACE } from '../access/access.js';
import { type CredentialRecord, toTile } from '../credentials/credential-record.js';
import { CredportError, StoreError } from '../errors.js';
import type { ConnectSessionRecord } from '../connect/connect-sessions.js';
import type { WebhookEventConnectSessionCompleted } from '../generated/webhook-event-connect-session-completed.js';
import type { WebhookEventCredentialInvalidated } from '../generated/webhook-event-credential-invalidated.js';
import type { WebhookEventSyncFailed } from '../generated/webhook-event-sync-failed.js';
import type { WebhookEventSyncSucceeded } from '../generated/webhook-event-sync-succeeded.js';
import type { WebhookEventType } from '../generated/webhook-event-type.js';
import type { SyncSummary } from '../generated/sync-summary.js';
import { terminalSafe } from '../text/terminal-safe.js';
import type { EventSubject, LandedRecord } from './outbox.js';

/**
 * The `data` of each webhook event, built from the record as it was written (schemas/webhook-event-*).
 * Only public views go in: a credential's tile (built field by field, so never `sealed`), a connect
 * session's ids (the end user's id, never a name or an email), a sync's ids and summary.
 */

/** What found a credential refused, for `credential.invalidated`'s `cause`. */
export type InvalidCause = NonNullable<WebhookEventCredentialInvalidated['data']['cause']>;

/** `credential.*`: the workspace and the tile; for `credential.invalidated`, what found it refused when the record says. */
export function credentialEventData(record: CredentialRecord, type: WebhookEventType): Record<string, unknown> {
  const data: Record<string, unknown> = { workspace: record.workspace ?? DEFAULT_WORKSPACE, credential: toTile(record) };
  if (type === 'credential.invalidated' && record.invalidCause !== undefined) data.cause = record.invalidCause;
  return data;
}

/** A credential record as written, for the outbox: its marks and each type's payload. */
export function credentialLanded(record: CredentialRecord): LandedRecord {
  return {
    workspace: record.workspace ?? DEFAULT_WORKSPACE,
    marks: record.events ?? [],
    data: (type) => credentialEventData(record, type),
  };
}

/** `connect.session.completed`: the session's ids, mode and outcome (its end user by id only). */
export function connectSessionEventData(record: ConnectSessionRecord): WebhookEventConnectSessionCompleted['data'] {
  const outcome = record.outcome!;
  return {
    workspace: record.workspace,
    session: {
      id: record.id,
      mode: record.mode,
      endUserId: record.endUser.id,
      outcome: { action: outcome.action, credentialId: outcome.credentialId, at: outcome.at },
    },
  };
}

/** A connect session record as written, for the outbox. */
export function connectSessionLanded(record: ConnectSessionRecord): LandedRecord {
  return {
    workspace: record.workspace,
    marks: record.events ?? [],
    data: () => connectSessionEventData(record) as unknown as Record<string, unknown>,
  };
}

/**
 * How recover() reads a record of a kind after a crash: undefined when it is gone. A damaged record
 * is there (not gone) but proves nothing: no marks, so an intent about it is dropped rather than
 * stopping the whole recovery pass.
 */
export function subjectOf<R>(read: (id: string) => Promise<R | undefined>, landed: (record: R) => LandedRecord): EventSubject {
  return {
    landed: async (id) => {
      try {
        const record = await read(id);
        return record === undefined ? undefined : landed(record);
      } catch (error) {
        if (error instanceof StoreError && error.code === 'corrupt_record') return { workspace: '', marks: [], data: () => ({}) };
        throw error;
      }
    },
  };
}

export interface SyncRef {
  sourceId: string;
  destinationId: string;
  jobId?: string;
}

/** `sync.succeeded`: which sync, and what its run did. */
export function syncSucceededData(workspace: string, sync: SyncRef, summary: SyncSummary): WebhookEventSyncSucceeded['data'] {
  return { workspace, sync: syncRef(sync), summary };
}

/**
 * `sync.failed`: which sync, and the error's code and message. A credport error's message is made
 * to be shown (the HTTP layer redacts secrets from it, as the API's problem details rely on); any
 * other error is a bug whose text may hold anything, so it is sent as `internal` with no words of its own.
 */
export function syncFailedData(workspace: string, sync: SyncRef, error: unknown): WebhookEventSyncFailed['data'] {
  const known = error instanceof CredportError;
  return {
    workspace,
    sync: syncRef(sync),
    error: { code: known ? error.code : 'internal', message: known ? terminalSafe(error.message, 1000) : 'internal error' },
  };
}

function syncRef(sync: SyncRef): SyncRef {
  return { sourceId: sync.sourceId, destinationId: sync.destinationId, ...(sync.jobId !== undefined ? { jobId: sync.jobId } : {}) };
}
