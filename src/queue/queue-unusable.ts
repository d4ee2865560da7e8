import { StoreError } from '../errors.js';
import { failureReason } from '../text/failure-reason.js';
import { redactUri, secretsOfUri } from '../text/redact-uri.js';

/** The queue (CREDPORT_QUEUE) could not be opened: exit 5, the URI without its password. */
export function queueUnusable(url: string, error: unknown): StoreError {
  return new StoreError(
    'queue_unavailable',
    `the queue (CREDPORT_QUEUE ${redactUri(url)}) cannot be used: ${failureReason(error, secretsOfUri(url))}`,
  );
}
