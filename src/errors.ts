// Every error credport lets out is one of these: a safe message (never a secret), a stable code
// for machines, and the CLI exit code the README documents.

export const ExitCode = {
  ok: 0,
  internal: 1,
  badInput: 2,
  providerRejected: 3,
  providerUnavailable: 4,
  store: 5,
  /** Stopped on request (SIGINT, a cancel from the API) after a checkpoint: the next run resumes. */
  cancelled: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorDetails {
  code: string;
  message: string;
  exitCode: ExitCode;
  field?: string;
  status?: number;
}

export abstract class CredportError extends Error {
  abstract readonly exitCode: ExitCode;
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }

  toJSON(): ErrorDetails {
    return { code: this.code, message: this.message, exitCode: this.exitCode };
  }
}

/** Bad input or usage: a field, an argument, an unknown connector or id. Nothing was saved. */
export class InputError extends CredportError {
  readonly exitCode = ExitCode.badInput;
  readonly field: string | undefined;

  constructor(message: string, options: { field?: string; code?: string } = {}) {
    super(options.code ?? 'invalid_input', message);
    this.field = options.field;
  }

  override toJSON(): ErrorDetails {
    return { ...super.toJSON(), ...(this.field ? { field: this.field } : {}) };
  }
}

export class NotFoundError extends InputError {
  constructor(message: string) {
    super(message, { code: 'not_found' });
  }
}

/** The provider answered 401 or 403: the secret does not work (or lacks a permission). */
export class ProviderRejectedError extends CredportError {
  readonly exitCode = ExitCode.providerRejected;
  readonly status: number;
  /** The credential whose request was refused, when a client knows it (syncs mark that tile invalid). */
  credentialId: string | undefined;
  /** The secret's field, when the refused secret was just given (add, rotate): the API points at it (/values/apiKey). */
  field: string | undefined;

  /**
   * The refusal in words for the person who typed the secret: the provider's answer without the
   * request it refused (`GET /me` means nothing to an end user in a host's app; the message keeps it).
   */
  readonly forPeople: string;

  constructor(message: string, status: number, forPeople = message) {
    super('provider_rejected', message);
    this.status = status;
    this.forPeople = forPeople;
  }

  override toJSON(): ErrorDetails {
    return { ...super.toJSON(), status: this.status };
  }
}

/** The provider could not be reached, timed out, failed (5xx) or answered something unexpected. */
export class ProviderUnavailableError extends CredportError {
  readonly exitCode = ExitCode.providerUnavailable;
  readonly status: number | undefined;

  constructor(message: string, options: { status?: number; code?: string } = {}) {
    super(options.code ?? 'provider_unavailable', message);
    this.status = options.status;
  }

  override toJSON(): ErrorDetails {
    return { ...super.toJSON(), ...(this.status ? { status: this.status } : {}) };
  }
}

/** A request was about to carry the secret to an origin it does not belong to. */
export class OriginRefusedError extends ProviderUnavailableError {
  constructor(message: string) {
    super(message, { code: 'origin_refused' });
  }
}

/**
 * The operator's outbound policy refuses where a credential would send a request: an origin a
 * tenant may not use, or an address (loopback, private, link-local...) found when connecting.
 */
export class OutboundRefusedError extends InputError {
  constructor(message: string, options: { field?: string } = {}) {
    super(message, { ...options, code: 'outbound_refused' });
  }
}

/** The store or the master key cannot be used: unreadable, locked out, wrong key, damaged record. */
export class StoreError extends CredportError {
  readonly exitCode = ExitCode.store;

  constructor(
    code:
      | 'store_unavailable'
      | 'queue_unavailable'
      | 'wrong_master_key'
      | 'master_key_invalid'
      | 'corrupt_record'
      | 'write_conflict'
      | 'lease_lost',
    message: string,
  ) {
    super(code, message);
  }
}

/** A sync stopped on request after its last checkpoint: nothing is lost, the next sync finishes the run. */
export class SyncCancelledError extends CredportError {
  readonly exitCode = ExitCode.cancelled;

  constructor(stream: string | undefined) {
    super('sync_cancelled', `sync cancelled${stream ? ` after a checkpoint of ${stream}` : ''}; run it again to finish the run`);
  }
}

/** A key rotation stopped on request between two batches: every record is readable, and the next `keys rotate` goes on. */
export class RotationStoppedError extends CredportError {
  readonly exitCode = ExitCode.cancelled;

  constructor(done: number, left: number) {
    super(
      'rotation_stopped',
      `key rotation stopped after re-sealing ${done} records (${left} left); every record stays readable with either key: run ` +
        `credport keys rotate again to finish`,
    );
  }
}

/** A sync that failed in a worker, as the worker reported it: its code, message and exit code. */
export class RemoteSyncError extends CredportError {
  readonly exitCode: ExitCode;

  constructor(details: ErrorDetails) {
    super(details.code, details.message);
    this.exitCode = details.exitCode;
  }
}
