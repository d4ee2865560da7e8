import type { ConnectErrorPayload, ConnectEvent } from '../../../src/generated/connect-event.js';
import { ApiError } from '../api.js';

export type Failure = ConnectErrorPayload;

/** An exchange's or a request's failure as the host's error event says it: credport's code, the status (0: unreachable), its words. */
export function failureOf(error: unknown): Failure {
  if (error instanceof ApiError) return { code: error.code ?? 'refused', status: error.status, detail: error.message };
  return { code: 'unreachable', status: 0, detail: 'credport could not be reached. Check your connection, then close this and try again.' };
}

/**
 * The page's first failure, sent to the host once as an `error` event and shown to the end user:
 * the session cannot go on after it (a refused exchange, a bearer gone, a server lost).
 */
export class FailureReport {
  private first: Failure | undefined;
  private readonly listeners = new Set<(failure: Failure) => void>();

  constructor(private readonly send: (event: ConnectEvent) => void) {}

  report(failure: Failure): void {
    if (this.first) return;
    this.first = failure;
    this.send({ type: 'error', payload: failure });
    for (const listener of this.listeners) listener(failure);
  }

  subscribe(listener: (failure: Failure) => void): () => void {
    if (this.first) listener(this.first);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
