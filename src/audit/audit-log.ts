import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { AccessScope, EVERY_WORKSPACE } from '../access/access.js';
import type { AuditEvent } from '../generated/audit-event.js';
import type { Collection } from '../store/collection.js';
import { oldestFirst } from '../listing-order.js';
import { type Page, type PageOptions, pageOf } from '../page-cursor.js';
import { failureReason } from '../text/failure-reason.js';
import { terminalSafe } from '../text/terminal-safe.js';

export type { AuditEvent };

/** What a service says happened; the log adds the id, the time and the actor. */
export type AuditEntry = Omit<AuditEvent, 'id' | 'at' | 'actor'>;

export interface AuditFilter {
  credentialId?: string;
  /** Only events at or after this time. */
  since?: Date;
  /** Only the latest this many of those that match (`credport audit --limit`); paged after that, if asked. */
  latest?: number;
}

// Who is acting, for every call made inside withActor: a server sets it per request, a worker per job.
const actors = new AsyncLocalStorage<string>();

export function withActor<T>(actor: string, run: () => T): T {
  return actors.run(actor, run);
}

export function currentActor(): string | undefined {
  return actors.getStore();
}

const DETAIL_MAX = 500;

/**
 * The append-only trail of credential events, in the same store as everything else. An event is
 * inserted under a new id and never written again: there is no update or delete here. Entries hold
 * ids, names of actions and the provider's words (already stripped of secrets where they are made),
 * never a record's name, description or secret.
 */
export class AuditLog {
  constructor(
    private readonly events: Collection<AuditEvent>,
    /** The actor when none is set for the call (the OS user of a CLI run). */
    private readonly defaultActor: string,
    private readonly now: () => Date = () => new Date(),
    /** Events carry the caller's workspace; a caller reads only its workspace's. */
    private readonly scope: AccessScope = new AccessScope(),
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    const at = this.now();
    // Milliseconds first, so ids sort in time order on every store; the random tail keeps them apart.
    const id = `evt_${String(at.getTime()).padStart(13, '0')}_${randomBytes(6).toString('hex')}`;
    const event: AuditEvent = {
      id,
      at: at.toISOString(),
      action: entry.action,
      actor: actors.getStore() ?? this.defaultActor,
      outcome: entry.outcome,
    };
    // A store-wide event (a key rotation, a schedule's pass over every workspace) has none.
    const workspace =
      entry.workspace ??
      (this.scope.current().workspace !== EVERY_WORKSPACE && entry.action !== 'keys.rotated' ? this.scope.home() : undefined);
    if (workspace !== undefined) event.workspace = workspace;
    if (entry.credentialId !== undefined) event.credentialId = entry.credentialId;
    if (entry.connector !== undefined) event.connector = entry.connector;
    if (entry.sessionId !== undefined) event.sessionId = entry.sessionId;
    if (entry.webhookId !== undefined) event.webhookId = entry.webhookId;
    if (entry.detail !== undefined) event.detail = terminalSafe(entry.detail, DETAIL_MAX);
    await this.events.insert(id, event);
  }

  /**
   * record, after a change that was saved: the trail must not turn it into a reported failure (the
   * caller would retry and make it twice), so a lost event is said as a process warning instead.
   */
  async note(entry: AuditEntry): Promise<void> {
    try {
      await this.record(entry);
    } catch (error) {
      process.emitWarning(
        `the audit trail could not record ${entry.action}${entry.credentialId ? ` of ${entry.credentialId}` : ''}: ${failureReason(error)}`,
        { code: 'CREDPORT_AUDIT' },
      );
    }
  }

  /** Oldest first: those that match (the `latest` of them, if asked), a page at a time with `limit` and `cursor`, else all. */
  async list(filter: AuditFilter & PageOptions = {}): Promise<Page<AuditEvent>> {
    this.scope.require('viewer', 'reading the audit trail');
    const found =
      filter.credentialId === undefined ? await this.events.all() : await this.events.where('credentialId', filter.credentialId);
    // Store-wide events (no workspace) are for the operator's default workspace only.
    const matching = found.filter((e) => this.scope.sees(e));
    const since = filter.since?.toISOString();
    const events = oldestFirst(since === undefined ? matching : matching.filter((e) => e.at >= since), (e) => e.at);
    // Not slice(-latest): -0 is 0, and `--limit 0` would print the whole trail.
    const kept = filter.latest === undefined ? events : events.slice(Math.max(0, events.length - filter.latest));
    return pageOf(kept, filter, (e) => e.at);
  }
}
