import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { OutboundPolicy, type Resolver } from '../../src/http/outbound-policy.js';
import { WebhookSender } from '../../src/webhooks/webhook-sender.js';
import { newMessageId, newWebhookSecret } from '../../src/webhooks/webhook-signature.js';

// The sender alone: one signed POST, no redirect followed, a receiver that hangs or is gone answered
// as an attempt, and a tenant's endpoint checked where it connects (a name that now resolves to
// loopback is refused), all judged by the published standardwebhooks package.

/** A resolver answering every name with one address, as a tenant's DNS may (rebinding to loopback). */
const resolvingTo =
  (address: string): Resolver =>
  (_hostname, _options, callback) =>
    callback(null, [{ address, family: 4 } as LookupAddress]);

let server: Server;
let origin: string;
let mode: 'ok' | 'hang' = 'ok';
const bodies: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      if (mode === 'hang') return;
      response.writeHead(200).end('x'.repeat(100_000));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('WebhookSender.deliver', () => {
  it('POSTs the body signed by every secret given, and reads at most the start of a long answer', async () => {
    const secrets = [newWebhookSecret(), newWebhookSecret()];
    const sender = new WebhookSender(new OutboundPolicy());
    const message = { id: newMessageId(), body: '{"type":"webhook.test"}' };
    const attempt = await sender.deliver({ url: `${origin}/in`, reach: 'operator', secrets }, message);
    expect(attempt).toMatchObject({ delivered: true, status: 200, webhookId: message.id });
    expect(attempt.response).toHaveLength(200);
    expect(bodies.at(-1)).toBe(message.body);
  });

  it('answers a receiver that does not answer in time as an attempt that failed', async () => {
    mode = 'hang';
    try {
      const sender = new WebhookSender(new OutboundPolicy(), { timeoutMs: 300 });
      const attempt = await sender.deliver(
        { url: `${origin}/in`, reach: 'operator', secrets: [newWebhookSecret()] },
        { id: newMessageId(), body: '{}' },
      );
      expect(attempt).toMatchObject({ delivered: false, error: 'the receiver did not answer within 300 ms' });
      expect(attempt.status).toBeUndefined();
    } finally {
      mode = 'ok';
    }
  });

  it("refuses, where it connects, a tenant's endpoint whose name now resolves to loopback", async () => {
    const sender = new WebhookSender(new OutboundPolicy({ resolve: resolvingTo('127.0.0.1') }), { timeoutMs: 2000 });
    const attempt = await sender.deliver(
      { url: 'https://hooks.example.com/in', reach: 'tenant', secrets: [newWebhookSecret()] },
      { id: newMessageId(), body: '{}' },
    );
    expect(attempt).toMatchObject({ delivered: false, error: expect.stringMatching(/outbound policy refuses hooks\.example\.com/) });
  });

  it('a signature standardwebhooks verifies, and one it refuses once the body changes', async () => {
    const secret = newWebhookSecret();
    let headers: Record<string, string> = {};
    const capture = createServer((request, response) => {
      headers = request.headers as Record<string, string>;
      request.resume().on('end', () => response.writeHead(204).end());
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(capture.address() as { port: number }).port}/`;
    const body = JSON.stringify({ type: 'webhook.test', data: { endpointId: 'whe_0123456789abcdef' } });
    await new WebhookSender(new OutboundPolicy()).deliver({ url, reach: 'operator', secrets: [secret] }, { id: newMessageId(), body });
    await new Promise<void>((resolve) => capture.close(() => resolve()));
    expect(new Webhook(secret).verify(body, headers)).toMatchObject({ type: 'webhook.test' });
    expect(() => new Webhook(secret).verify(body.replace('test', 'tset'), headers)).toThrow();
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
  });
});

describe('OutboundPolicy.checkWebhookUrl', () => {
  it('lets only webhooks=<origin> allowances reach webhooks, not an allowance for every connector', () => {
    const policy = new OutboundPolicy({ allow: ['http://127.0.0.1:4010', 'webhooks=http://127.0.0.1:9000'] });
    expect(policy.checkWebhookUrl('http://127.0.0.1:9000/in', 'tenant')).toBe('http://127.0.0.1:9000/in');
    expect(() => policy.checkWebhookUrl('http://127.0.0.1:4010/in', 'tenant')).toThrow(/outbound policy refuses/);
    // The operator: https anywhere, http to loopback only.
    expect(policy.checkWebhookUrl('http://127.0.0.1:4010/in', 'operator')).toBe('http://127.0.0.1:4010/in');
    expect(policy.checkWebhookUrl('https://10.0.0.1/in', 'operator')).toBe('https://10.0.0.1/in');
    expect(() => policy.checkWebhookUrl('http://hooks.example.com/in', 'operator')).toThrow(/https:\/\//);
  });
});
