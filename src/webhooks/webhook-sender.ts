import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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
  /**
   * The operator's endpoints' pools (a tenant's go through the policy's guarded agents). Node's own
   * client, not got: a delivery is one POST, and got's per-request work was most of a burst's time
   * and memory (npm run bench: 10,000 bare POSTs in 3.6 s and +86 MiB RSS with got, 0.9 s and
   * +15 MiB with node:http). Kept-alive sockets are unref'd by Node: they hold no process open.
   */
  private readonly agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

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
      const agents = this.outbound.routeWebhook(url, target.reach) ?? this.agents;
      const { status, text } = await post(url, {
        body: message.body,
        headers: {
          'content-type': 'application/json',
          'user-agent': `credport/${VERSION}`,
          ...webhookHeaders(target.secrets, content),
        },
        timeoutMs: this.options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
        agent: url.protocol === 'https:' ? agents.https : agents.http,
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

/** The POST: its status, and at most RESPONSE_BYTES of its answer (the connection is dropped after). */
function post(
  url: URL,
  options: { body: string; headers: Record<string, string>; timeoutMs: number; agent: HttpAgent | HttpsAgent },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const chunks: Buffer[] = [];
    let read = 0;
    let settled = false;
    // An answer cut short (the bound, a timeout or a reset after its status) is still an answer: its status counts.
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error !== undefined && status === 0) reject(error);
      else resolve({ status, text: Buffer.concat(chunks).toString('utf8') });
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      url,
      {
        method: 'POST',
        agent: options.agent,
        headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
      },
      (response) => {
        status = response.statusCode ?? 0;
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          read += chunk.length;
          if (read >= RESPONSE_BYTES) {
            finish();
            request.destroy();
          }
        });
        response.on('end', () => finish());
        response.on('error', (error) => finish(error));
        // Closed without an end (the receiver reset it mid-answer): what came is the answer.
        response.on('close', () => finish());
      },
    );
    // The whole exchange, answer included, within the bound: a receiver that trickles its body is cut off too.
    const timer = setTimeout(() => {
      const error = new NoAnswerInTime();
      finish(error);
      request.destroy(error);
    }, options.timeoutMs);
    request.on('error', (error) => finish(error));
    request.end(options.body);
  });
}

class NoAnswerInTime extends Error {}

/** Why no answer came, in words fit for the caller: never the client's error itself (it may hold the request, headers and all). */
function reasonOf(error: unknown, timeoutMs: number): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (error instanceof CredportError) return error.message;
  if (cause instanceof CredportError) return cause.message;
  if (error instanceof NoAnswerInTime) return `the receiver did not answer within ${timeoutMs} ms`;
  const code = (error as { code?: string })?.code;
  if (code === 'ECONNREFUSED') return 'the receiver refused the connection (ECONNREFUSED)';
  if (code === 'ENOTFOUND') return 'the receiver host name does not resolve (ENOTFOUND)';
  if (code !== undefined) return `the receiver could not be reached (${printable(code, 40)})`;
  return 'the receiver could not be reached';
}
