import type { ErrorDetails } from '../errors.js';

/** A job's failure reason as the worker wrote it (a credport error as JSON); undefined for anything else (an internal error). */
export function workerFailure(reason: string | undefined): ErrorDetails | undefined {
  try {
    const details = JSON.parse(reason ?? '') as ErrorDetails;
    if (typeof details.code === 'string' && typeof details.message === 'string' && typeof details.exitCode === 'number') return details;
  } catch {
    // not ours
  }
  return undefined;
}
