import got, { RequestError, TimeoutError } from 'got';
import { CredportError } from '../errors.js';
import type { WebhookTestResult } from '../generated/webhook-test-result.js';
import type { OutboundPolicy, Reach } from '../http/outbound-policy.js';
import { VERSION } from '../package-info.js';
import { printable } from '../text/printable.js';
import { terminalSafe } from '../text/terminal-safe.js';
import { type SignedContent, webhookHeaders } from './webhook-signature.js';

/** One attempt to deliver one message to one endpoint, as recorded: a failed attempt is a record too, never a throw. */
export type DeliveryAttempt = WebhookTestResult;

/** Where an attempt goes: the endpoint's URL, who registered it (its reach), and the secrets that sign it now. */
export interface DeliveryTarget {
  url: string;
  reach: Reach;
  secrets: readonly string[];
}

/** What is sent: the message's id (kept across retries) and its body, exactly as signed. */
export interface WebhookMessage {
  id: string;
  body: string;
}

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** Bytes of a receiver's answer read at most: enough for the first 200 characters; the rest is not waited for. */
const RESPONSE_BYTES = 4096;
const RESPONSE_CHARS = 200;

/**
 * Sends one signed POST and answers what happened. Redirects are not followed (a 3xx is a failed
 * attempt: a receiver must not move a signed delivery elsewhere); the address is checked when
 * connecting, by the outbound policy's guarded agents, for an endpoint a tenant registered; the
 * answer is read up to a bound; there is no retry here (the outbox's schedule decides retries).
 */
export class WebhookSender {
  constructor(
    private readonly outbound: OutboundPolicy,
    private readonly options: { timeoutMs?: number; now?: () => Date } = {},
  ) {}

  async deliver(target: DeliveryTarget, message: WebhookMessage): Promise<DeliveryAttempt> {
    const started = performance.now();
    const attempt = (rest: Omit<DeliveryAttempt, 'durationMs' | 'webhookId'>): DeliveryAttempt => ({
      ...rest,
      durationMs: Math.max(0, Math.round(performance.now() - started)),
      webhookId: message.id,
    });
    const now = this.options.now?.() ?? new Date(Date.now());
    const content: SignedContent = { id: message.id, timestamp: Math.floor(now.getTime() / 1000), body: message.body };
    try {
      const url = new URL(target.url);
      const agent = this.outbound.routeWebhook(url, target.reach);
      const { status, text } = await post(url, {
        body: message.body,
        headers: {
          'content-type': 'application/json',
          'user-agent': `credport/${VERSION}`,
          ...webhookHeaders(target.secrets, content),
        },
        timeoutMs: this.options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
        ...(agent ? { agent } : {}),
      });
      const response = terminalSafe(text, RESPONSE_CHARS);
      const delivered = status >= 200 && status < 300;
      return attempt({
        delivered,
        status,
        ...(response !== '' ? { response } : {}),
        ...(delivered
          ? {}
          : {
              error:
                status >= 300 && status < 400
                  ? `the receiver answered ${status}: redirects are not followed`
                  : `the receiver answered ${status}`,
            }),
      });
    } catch (error) {
      return attempt({ delivered: false, error: reasonOf(error, this.options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS) });
    }
  }
}

/** The POST as a stream: its status, and at most RESPONSE_BYTES of its answer (the connection is dropped after). */
function post(
  url: URL,
  options: { body: string; headers: Record<string, string>; timeoutMs: number; agent?: { http: unknown; https: unknown } },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const stream = got.stream.post(url, {
      body: options.body,
      headers: options.headers,
      followRedirect: false,
      throwHttpErrors: false,
      retry: { limit: 0 },
      timeout: { request: options.timeoutMs },
      // The guarded agents for a tenant's endpoint; else got's defaults.
      ...(options.agent ? { agent: options.agent as never } : {}),
    });
    let status = 0;
    const chunks: Buffer[] = [];
    let read = 0;
    const finish = () => {
      stream.destroy();
      resolve({ status, text: Buffer.concat(chunks).toString('utf8') });
    };
    stream.on('response', (response: { statusCode: number }) => {
      status = response.statusCode;
    });
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      read += chunk.length;
      if (read >= RESPONSE_BYTES) finish();
    });
    stream.on('end', finish);
    stream.on('error', (error) => (status !== 0 ? finish() : reject(error)));
  });
}

/** Why no answer came, in words fit for the caller: never got's error itself (it holds the request, headers and all). */
function reasonOf(error: unknown, timeoutMs: number): string {
  const cause = error instanceof RequestError ? error.cause : undefined;
  if (error instanceof CredportError) return error.message;
  if (cause instanceof CredportError) return cause.message;
  if (error instanceof TimeoutError) return `the receiver did not answer within ${timeoutMs} ms`;
  const code = (error as { code?: string })?.code;
  if (code === 'ECONNREFUSED') return 'the receiver refused the connection (ECONNREFUSED)';
  if (code === 'ENOTFOUND') return 'the receiver host name does not resolve (ENOTFOUND)';
  if (code !== undefined) return `the receiver could not be reached (${printable(code, 40)})`;
  return 'the receiver could not be reached';
}
