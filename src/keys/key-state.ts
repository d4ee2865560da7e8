import { StoreError } from '../errors.js';
import { readModifySwap } from '../store/collection.js';
import type { CredentialRecords } from '../store/credential-records.js';
import type { MasterKey } from './master-key.js';
import { Sealer } from './sealer.js';

/** What the store says of its master key: the one it seals under, a rotation under way, the ones it retired. */
export interface KeyState {
  kid: string;
  createdAt: string;
  rotation?: { from: string; to: string; startedAt: string };
  retired?: { kid: string; at: string }[];
  /** Each change adds one, written over the revision it was read at: two rotations cannot both start. */
  rev?: number;
}

export const KEY_STATE = 'master-key';

/** Reads the keys this process holds again (a key file another process rotated, say). */
export type LoadKeys = () => Promise<MasterKey[]>;

/** Where the credential service gets its sealer: the store's key can move on while a process runs. */
export interface SealerSource {
  /** As of the last check: opens under every key held, seals under the store's key. */
  readonly current: Sealer;
  /** Before a write: a rotation started or ended elsewhere changes the key to seal under. */
  forWrite(): Promise<Sealer>;
  /** After meeting a record sealed under a key not held: the keys and the store's state read again. */
  refresh(): Promise<Sealer>;
}

/** A sealer that never changes (one key, no store to ask): tests and tools. */
export function fixedKeys(sealer: Sealer): SealerSource {
  return { current: sealer, forWrite: async () => sealer, refresh: async () => sealer };
}

/**
 * Binds the keys a process holds to the store's key state. The store decides which key seals:
 * its key, or during a rotation the new one; a process must hold that key (and, during a
 * rotation, the old one too), or it is refused at open, naming the keys, before it writes
 * anything a peer could not read.
 */
export class StoreKeys implements SealerSource {
  #sealer: Sealer;
  #state: KeyState;
  #held: MasterKey[];
  /** The read of the key state in flight, and the one queued after it (see readState). */
  #reading: Promise<KeyState> | undefined;
  #queued: Promise<KeyState> | undefined;

  private constructor(
    private readonly records: CredentialRecords,
    private readonly load: LoadKeys,
    private readonly source: string,
    held: MasterKey[],
    state: KeyState,
  ) {
    this.#sealer = sealerFor(state, held, source);
    this.#state = state;
    this.#held = held;
  }

  /** `held`: the keys as read at open; `load` reads them again later. */
  static async open(records: CredentialRecords, held: MasterKey[], load: LoadKeys, source: string): Promise<StoreKeys> {
    let state = await records.getMeta<KeyState>(KEY_STATE);
    if (!state) {
      state = { kid: held[0]!.kid, createdAt: new Date().toISOString() };
      await records.setMeta(KEY_STATE, state);
    }
    return new StoreKeys(records, load, source, held, state);
  }

  get current(): Sealer {
    return this.#sealer;
  }

  get state(): KeyState {
    return this.#state;
  }

  /** The ids of the keys this process holds: its key, then the next one when it has one. */
  get held(): string[] {
    return this.#held.map((k) => k.kid);
  }

  /** The id of the key a rotation moves to (CREDPORT_MASTER_KEY_NEXT, or the next key file), if this process holds one. */
  get next(): string | undefined {
    return this.#held[1]?.kid;
  }

  async forWrite(): Promise<Sealer> {
    const state = await this.readState();
    if (sealingKid(state) === this.#sealer.kid && (!state.rotation || this.#sealer.knows(state.rotation.from))) {
      this.#state = state;
      return this.#sealer;
    }
    return this.reload(state);
  }

  async refresh(): Promise<Sealer> {
    return this.reload(await this.readState());
  }

  /**
   * Writes a new state (a rotation starting or ending) over the one it was made from, and seals
   * under what it says from now on. Refused when the state changed meanwhile (another rotation).
   */
  async update(from: KeyState, next: KeyState): Promise<Sealer> {
    const { record } = await readModifySwap<KeyState>(
      // The read is `from`, and one try: a rotation planned on a state that moved on is refused, not
      // planned again here (the operator reruns it and it resumes from what the store says).
      { read: async () => from, swap: (value, expected) => this.records.swapMeta(KEY_STATE, value, expected) },
      () => next,
      {
        attempts: 1,
        conflict: () =>
          new StoreError(
            'write_conflict',
            "the store's master key state changed while this rotation was being recorded (another rotation?): see credport keys " +
              'status, then run credport keys rotate again',
          ),
      },
    );
    return this.reload(record);
  }

  /** The source of the next key held (CREDPORT_MASTER_KEY_NEXT, or the next key file), if any. */
  get nextSource(): MasterKey['source'] | undefined {
    return this.#held[1]?.source;
  }

  /**
   * The key state as the store has it after this call began. Every add reads it once after its
   * write (a rotation another process started meanwhile must be seen), so concurrent adds share
   * reads: a caller never joins a read already in flight (it may have begun before the caller's
   * write landed), but waits for the next one, which all callers arriving meanwhile share. Under
   * load the store does about one read per read's time instead of one per add.
   */
  private readState(): Promise<KeyState> {
    if (this.#queued !== undefined) return this.#queued;
    if (this.#reading === undefined) return this.startRead();
    const queued = this.#reading
      .catch(() => undefined)
      .then(() => {
        this.#queued = undefined;
        return this.startRead();
      });
    this.#queued = queued;
    return queued;
  }

  private startRead(): Promise<KeyState> {
    const reading = this.records.getMeta<KeyState>(KEY_STATE).then(
      (state) => {
        if (this.#reading === reading) this.#reading = undefined;
        return state ?? this.#state;
      },
      (error: unknown) => {
        if (this.#reading === reading) this.#reading = undefined;
        throw error;
      },
    );
    this.#reading = reading;
    return reading;
  }

  private async reload(state: KeyState): Promise<Sealer> {
    const held = await this.load();
    this.#sealer = sealerFor(state, held, this.source);
    this.#state = state;
    this.#held = held;
    return this.#sealer;
  }
}

/** The key a store seals under now: the rotation's new key while one runs. */
export function sealingKid(state: KeyState): string {
  return state.rotation?.to ?? state.kid;
}

function sealerFor(state: KeyState, held: MasterKey[], source: string): Sealer {
  const target = sealingKid(state);
  const sealWith = held.find((k) => k.kid === target);
  const kids = held.map((k) => k.kid).join(' and ');
  if (state.rotation && !sealWith) {
    throw new StoreError(
      'wrong_master_key',
      `this store's master key is being rotated from ${state.rotation.from} to ${state.rotation.to}, but this process holds key ` +
        `${kids}: give every process that uses the store the new key as CREDPORT_MASTER_KEY_NEXT before a rotation starts`,
    );
  }
  if (state.rotation && !held.some((k) => k.kid === state.rotation!.from)) {
    throw new StoreError(
      'wrong_master_key',
      `this store's master key is being rotated from ${state.rotation.from} to ${state.rotation.to}, and records under ` +
        `${state.rotation.from} remain, but this process holds only key ${kids}: keep the old key as CREDPORT_MASTER_KEY until ` +
        `\`credport keys rotate\` has finished`,
    );
  }
  if (!sealWith) {
    const retired = state.retired?.find((r) => held.some((k) => k.kid === r.kid));
    throw new StoreError(
      'wrong_master_key',
      retired
        ? `wrong master key: ${source} holds key ${retired.kid}, which this store retired on ${retired.at} when its key was ` +
            `rotated to ${state.kid}; use the new key`
        : state.retired?.length
          ? `wrong master key: this store's key is ${state.kid} (rotated on ${state.retired.at(-1)!.at}), but ${source} holds key ` +
            `${kids}; use the key it was rotated to`
          : `wrong master key: this store was created with key ${state.kid}, but ${source} holds key ${kids}; use the key the ` +
            `store was created with`,
    );
  }
  return new Sealer(
    sealWith,
    held.filter((k) => k !== sealWith),
  );
}
