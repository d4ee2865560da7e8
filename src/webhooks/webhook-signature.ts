import { createHmac, randomBytes } from 'node:crypto';

/**
 * Signing in the Standard Webhooks form (https://www.standardwebhooks.com), so a receiver verifies a
 * delivery with a published library (the `standardwebhooks` package) rather than with credport's code.
 */

const SECRET_PREFIX = 'whsec_';
/** The spec's range is 24 to 64 bytes; 32 is what its libraries make. */
const SECRET_BYTES = 32;

/** A new signing secret: `whsec_` + the base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** A message id (`webhook-id`): the same across the retries of one message, so a receiver can de-duplicate. */
export function newMessageId(): string {
  return `msg_${randomBytes(16).toString('hex')}`;
}

/** What is signed: the message id, its time (seconds) and the exact body sent. */
export interface SignedContent {
  id: string;
  /** Seconds since the epoch: a receiver refuses one too far from its clock, so an old delivery is not replayed. */
  timestamp: number;
  body: string;
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under one secret. */
export function signature(secret: string, content: SignedContent): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${content.id}.${content.timestamp}.${content.body}`).digest('base64');
  return `v1,${mac}`;
}

/**
 * The three headers of a delivery. With two secrets (during a rotation's overlap) both sign, space
 * separated as the spec allows: a receiver that still holds the old secret, or already the new one, verifies.
 */
export function webhookHeaders(secrets: readonly string[], content: SignedContent): Record<string, string> {
  return {
    'webhook-id': content.id,
    'webhook-timestamp': String(content.timestamp),
    'webhook-signature': secrets.map((secret) => signature(secret, content)).join(' '),
  };
}
