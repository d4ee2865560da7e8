import { type AccessScope, ForbiddenError } from '../access/access.js';
import type { AuditLog } from '../audit/audit-log.js';
import { InputError, RotationStoppedError, StoreError } from '../errors.js';
import type { CredentialRecords } from '../store/credential-records.js';
import type { Sealer } from './sealer.js';
import type { KeyState, StoreKeys } from './key-state.js';
import { type CredentialRecord, resealed as resealedUnder } from '../credentials/credential-record.js';

/** A kind of record, besides credentials, that holds a secret sealed under the store's key. */
export interface ResealsUnder {
  /** Re-seals every record not under `kid` yet with `sealer` (which opens under every key held); throws when one cannot be. */
  resealUnder(sealer: Sealer, kid: string): Promise<number>;
}

export interface KeyStatus {
  /** The key the store seals under (the new one during a rotation). */
  sealingWith: string;
  key: string;
  rotation?: KeyState['rotation'];
  retired: NonNullable<KeyState['retired']>;
  /** The keys this process holds. */
  held: string[];
  /** Records by the key they are sealed under; `damaged`: records that cannot be read at all. */
  records: { kid: string; count: number }[];
  damaged: number;
  total: number;
}

export interface RotationProgress {
  /** Re-sealed by this run so far. */
  resealed: number;
  /** Still under another key, as far as this pass knows. */
  left: number;
  /** Records in the store. */
  total: number;
}

export interface RotationResult {
  from: string;
  to: string;
  resealed: number;
  total: number;
  ms: number;
  /** The store was under the new key already: nothing to do. */
  already?: true;
}

// Records re-sealed and written in one store step: large enough that a rotation costs little more
// than the encryption, small enough that a stop waits for one batch and a host's writes get between.
const BATCH = 500;
const MAX_BATCH = 5_000;
// Batches written at once: PostgreSQL runs them side by side on its pool; SQLite and Redis queue them.
const WRITES_IN_FLIGHT = 3;
// Passes over the store: each re-seals what the one before missed (a record another process wrote
// under the old key meanwhile, a lost race). A store written that fast for this long is refused.
const MAX_PASSES = 20;

/**
 * Master-key rotation with the store in use. The rotation is recorded in the store first, so every
 * process seals new records under the new key from then on; each record is then re-sealed over the
 * revision it was read at (a concurrent change wins and is re-sealed on the next pass). The record's
 * key id is the progress: a rotation killed anywhere resumes by skipping what is done. It ends by
 * retiring the old key once no record is under it; a record that cannot be re-sealed is named and
 * keeps the rotation open, never dropped.
 */
export class KeyService {
  constructor(
    private readonly deps: {
      records: CredentialRecords;
      keys: StoreKeys;
      audit?: AuditLog;
      access?: AccessScope;
      now?: () => Date;
      /** Other secrets sealed under the store's key (webhook endpoints'): re-sealed before the old key is retired. */
      alsoSealed?: readonly ResealsUnder[];
    },
  ) {}

  async status(): Promise<KeyStatus> {
    // Store-wide: the operator's (the CLI's, an admin of the default workspace), not a tenant's.
    this.operatorOnly('reading the master key status');
    await this.deps.keys.refresh();
    const state = this.deps.keys.state;
    const counts = new Map<string, number>();
    let damaged = 0;
    const entries = await this.deps.records.entries();
    for (const [, record] of entries) {
      if (record instanceof StoreError) damaged += 1;
      else counts.set(record.sealed.kid, (counts.get(record.sealed.kid) ?? 0) + 1);
    }
    return {
      sealingWith: this.deps.keys.current.kid,
      key: state.kid,
      ...(state.rotation ? { rotation: state.rotation } : {}),
      retired: state.retired ?? [],
      held: this.deps.keys.held,
      records: [...counts].map(([kid, count]) => ({ kid, count })).sort((a, b) => b.count - a.count || (a.kid < b.kid ? -1 : 1)),
      damaged,
      total: entries.length,
    };
  }

  /**
   * Readiness: the store answers a read of its key state and this process holds the key it seals
   * under. Not operator-only (it shows nothing): a health probe asks it with no caller.
   */
  async checkReady(): Promise<void> {
    await this.deps.keys.forWrite();
  }

  /** `batch`: records re-sealed and written per store step (default 500); a stop takes effect between batches. */
  async rotate(
    options: { onProgress?: (progress: RotationProgress) => void; signal?: AbortSignal; batch?: number } = {},
  ): Promise<RotationResult> {
    // Three parameters a record in one SQLite statement: well under its limit of 32,766.
    const batch = Math.min(Math.max(1, options.batch ?? BATCH), MAX_BATCH);
    this.operatorOnly('rotating the master key');
    const started = performance.now();
    const { keys, records } = this.deps;
    await keys.refresh();
    let state = keys.state;
    // Rotated already (by another process, or by a run killed before its key file was swapped in):
    // the sweep below still re-seals any record a late writer left under an older key.
    const already = !state.rotation && keys.next === state.kid;
    if (!state.rotation && !already) {
      const to = keys.next;
      if (!to) {
        throw new InputError(
          `there is no new master key to rotate to: this process holds only the store's key ${state.kid}; set ` +
            `CREDPORT_MASTER_KEY_NEXT to a new key (openssl rand -base64 32) in every process that uses the store, then run this again`,
          { field: 'CREDPORT_MASTER_KEY_NEXT', code: 'no_next_key' },
        );
      }
      const begun: KeyState = { ...state, rotation: { from: state.kid, to, startedAt: this.now() } };
      await keys.update(state, begun);
      state = keys.state;
    }
    const to = state.rotation?.to ?? state.kid;
    const from = state.rotation?.from ?? state.retired?.at(-1)?.kid ?? state.kid;
    const sealer = keys.current;
    let resealed = 0;
    let total = 0;
    // Records that cannot be opened stay as they are; they are named at the end.
    const unopenable = new Map<string, string>();
    let failures = new Map<string, string>();
    for (let pass = 1; ; pass++) {
      // After the first pass, only what is still under another key comes back (the store filters where it can).
      const entries = await records.entries(pass === 1 ? undefined : { field: 'sealed.kid', equals: to, not: true });
      if (pass === 1) total = entries.length;
      failures = new Map();
      const todo: CredentialRecord[] = [];
      for (const [id, record] of entries) {
        if (record instanceof StoreError) failures.set(id, record.message);
        else if (unopenable.has(id) && record.sealed.kid !== to) failures.set(id, unopenable.get(id)!);
        else if (record.sealed.kid !== to) todo.push(record);
      }
      if (todo.length === 0) break;
      if (pass > MAX_PASSES)
        throw new StoreError(
          'write_conflict',
          `records kept changing under the old key for ${MAX_PASSES} passes; run credport keys rotate again when the store is quieter`,
        );
      options.onProgress?.({ resealed, left: todo.length, total });
      // Batches are re-sealed here while the store writes the ones before (its driver works off this
      // thread, and a server store takes a few at once), so the rotation costs about the longer of
      // the two, not their sum.
      const writing: Promise<number>[] = [];
      let written = 0;
      const land = async (keep: number) => {
        while (writing.length > keep) resealed += await writing.shift()!;
        options.onProgress?.({ resealed, left: todo.length - written, total });
      };
      try {
        for (let i = 0; i < todo.length; i += batch) {
          const items = this.resealed(todo.slice(i, i + batch), sealer, unopenable);
          await land(WRITES_IN_FLIGHT - 1);
          if (options.signal?.aborted) {
            await land(0);
            throw new RotationStoppedError(resealed, todo.length - i);
          }
          const write = this.deps.records.swapMany(items).then((results) => results.filter(Boolean).length);
          write.catch(() => undefined); // handled when its turn comes; a failure meanwhile must not be an unhandled rejection
          writing.push(write);
          written = Math.min(todo.length, i + batch);
        }
      } finally {
        // Whatever happens, no write is left running unseen (a stop waits for those already sent).
        await Promise.allSettled(writing);
      }
      await land(0);
    }
    if (failures.size > 0) {
      const named = [...failures]
        .slice(0, 5)
        .map(([id, why]) => `${id} (${why})`)
        .join('; ');
      throw new StoreError(
        'corrupt_record',
        `the key rotation from ${from} to ${to} cannot re-seal ${failures.size} record${failures.size === 1 ? '' : 's'}: ` +
          `${named}${failures.size > 5 ? '; …' : ''}. Delete them (credport credentials delete <id>) or restore them from a ` +
          `backup, then run credport keys rotate again; until then both keys stay in use`,
      );
    }
    // A few records each (not the credentials' millions): re-sealed one by one, and a failure keeps both keys in use.
    for (const other of this.deps.alsoSealed ?? []) await other.resealUnder(sealer, to);
    if (already)
      return {
        from,
        to,
        resealed,
        total,
        ms: Math.round(performance.now() - started),
        ...(resealed === 0 ? { already: true as const } : {}),
      };
    const { rotation: _done, ...rest } = state;
    await keys.update(state, { ...rest, kid: to, retired: [...(state.retired ?? []), { kid: from, at: this.now() }] });
    // The rotation is done: a trail that cannot be written is said, not turned into a failure.
    await this.deps.audit?.note({
      action: 'keys.rotated',
      outcome: 'ok',
      detail: `master key ${from} retired for ${to}: ${resealed} of ${total} credentials re-sealed by this run`,
    });
    return { from, to, resealed, total, ms: Math.round(performance.now() - started) };
  }

  /** The batch re-sealed under the new key, each to be written over the revision it was read at; what cannot be opened is set aside. */
  private resealed(
    batch: CredentialRecord[],
    sealer: Sealer,
    unopenable: Map<string, string>,
  ): { id: string; value: CredentialRecord; expected: number }[] {
    const items: { id: string; value: CredentialRecord; expected: number }[] = [];
    for (const record of batch) {
      try {
        const rev = record.rev ?? 0;
        items.push({ id: record.id, value: { ...record, sealed: resealedUnder(record, sealer), rev: rev + 1 }, expected: rev });
      } catch (error) {
        if (!(error instanceof StoreError)) throw error;
        unopenable.set(record.id, error.message);
      }
    }
    return items;
  }

  private operatorOnly(doing: string): void {
    const scope = this.deps.access;
    if (!scope) return;
    scope.require('admin', doing);
    if (!scope.seesDamaged())
      throw new ForbiddenError(`${doing} is for the operator (the default workspace), not workspace ${scope.current().workspace}`);
  }

  private now(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }
}
