import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { openCredport } from '../../src/open-credport.js';
import { runCli } from '../helpers/run-cli.js';
import { allBytes, removeHome, tempHome } from '../helpers/temp-home.js';

// `credport webhooks` end to end: the CLI process registers an endpoint on a loopback receiver in
// this test, sends it the signed test message, and rotates its secret; the receiver verifies every
// delivery with the published standardwebhooks package.

let home: string;
let server: Server;
let origin: string;
let status = 200;
const received: { body: string; headers: IncomingHttpHeaders }[] = [];

beforeEach(async () => {
  home = await tempHome();
  received.length = 0;
  status = 200;
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: request.headers });
      response.writeHead(status, { 'content-type': 'text/plain' }).end('thanks');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterEach(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await removeHome(home);
});

const verify = (secret: string, delivery: (typeof received)[number]) =>
  new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>);

describe('credport webhooks', () => {
  it('add, list, test and rotate-secret with --json; the receiver verifies each delivery with standardwebhooks', async () => {
    const env = { CREDPORT_HOME: home, CREDPORT_WORKSPACE: 'acme' };
    const added = await runCli(['webhooks', 'add', '--url', `${origin}/hook`, '--events', 'credential.invalidated,sync.failed', '--json'], {
      env,
    });
    expect([added.code, added.stderr]).toEqual([0, '']);
    const endpoint = JSON.parse(added.stdout) as { id: string; secret: string; events: string[] };
    expect(endpoint).toMatchObject({ url: `${origin}/hook`, events: ['credential.invalidated', 'sync.failed'], enabled: true });
    expect(endpoint.secret).toMatch(/^whsec_/);

    const listed = await runCli(['webhooks', 'list', '--json'], { env });
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((e) => e.id)).toEqual([endpoint.id]);
    expect(listed.stdout).not.toContain(endpoint.secret.slice(6));
    // Another workspace sees none of it.
    expect(JSON.parse((await runCli(['webhooks', 'list', '--json'], { env: { CREDPORT_HOME: home } })).stdout)).toEqual([]);

    const tested = await runCli(['webhooks', 'test', endpoint.id, '--json'], { env });
    expect(tested.code).toBe(0);
    const attempt = JSON.parse(tested.stdout) as { delivered: boolean; status: number; response: string; webhookId: string };
    expect(attempt).toMatchObject({ delivered: true, status: 200, response: 'thanks' });
    expect(received).toHaveLength(1);
    expect(verify(endpoint.secret, received[0]!)).toMatchObject({ type: 'webhook.test', data: { endpointId: endpoint.id } });
    expect(received[0]!.headers['webhook-id']).toBe(attempt.webhookId);

    const rotated = await runCli(['webhooks', 'rotate-secret', endpoint.id, '--json'], { env });
    expect(rotated.code).toBe(0);
    const { secret } = JSON.parse(rotated.stdout) as { secret: string };
    expect(secret).not.toBe(endpoint.secret);
    expect((await runCli(['webhooks', 'test', endpoint.id, '--json'], { env })).code).toBe(0);
    expect(verify(endpoint.secret, received[1]!)).toMatchObject({ type: 'webhook.test' });
    expect(verify(secret, received[1]!)).toMatchObject({ type: 'webhook.test' });

    // A receiver that fails: the attempt is printed, and the exit code says it was not delivered.
    status = 503;
    const failed = await runCli(['webhooks', 'test', endpoint.id], { env });
    expect(failed.code).toBe(4);
    expect(failed.stdout).toContain('not delivered');
    expect(failed.stdout).toContain('the receiver answered 503');

    const store = await allBytes(home);
    for (const s of [endpoint.secret, secret]) expect(store.includes(s.slice(6))).toBe(false);
  });

  it('refuses an unknown event type and a URL that is neither https nor loopback, by their names', async () => {
    const env = { CREDPORT_HOME: home };
    const unknown = await runCli(['webhooks', 'add', '--url', `${origin}/hook`, '--events', 'credential.exploded'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/events/);
    const plain = await runCli(['webhooks', 'add', '--url', 'http://hooks.example.com/in', '--events', 'sync.failed'], { env });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/https:\/\//);
    expect(JSON.parse((await runCli(['webhooks', 'list', '--json'], { env })).stdout)).toEqual([]);
  });

  it('deliveries lists what was sent with its attempts, and redeliver sends a failed one again', async () => {
    const env = { CREDPORT_HOME: home, CREDPORT_WORKSPACE: 'acme' };
    const added = await runCli(['webhooks', 'add', '--url', `${origin}/hook`, '--events', 'sync.failed', '--json'], { env });
    const endpoint = JSON.parse(added.stdout) as { id: string; secret: string };
    // The store's events, delivered as a serve or worker would (one retry, at once, then failed).
    const credport = await openCredport({ home, env: { CREDPORT_WEBHOOK_RETRY_MS: '0' } });
    try {
      status = 500;
      const event = await credport.outbox.publish('acme', 'sync.failed', { workspace: 'acme' });
      await credport.deliverWebhooksNow();
      const listed = await runCli(['webhooks', 'deliveries', endpoint.id, '--json'], { env });
      expect(listed.code).toBe(0);
      const [failed] = JSON.parse(listed.stdout) as { id: string; status: string; attempts: { status: number; response: string }[] }[];
      expect(failed).toMatchObject({ id: event, status: 'failed' });
      expect(failed!.attempts.map((a) => [a.status, a.response])).toEqual([
        [500, 'thanks'],
        [500, 'thanks'],
      ]);
      const table = await runCli(['webhooks', 'deliveries', endpoint.id, '--status', 'failed'], { env });
      expect(table.stdout).toMatch(new RegExp(`${event}\\s+sync.failed\\s+failed\\s+2\\s+.* the receiver answered 500`));
      const bogus = await runCli(['webhooks', 'deliveries', endpoint.id, '--status', 'lost'], { env });
      expect([bogus.code, bogus.stderr]).toEqual([2, expect.stringContaining('--status is pending, delivered or failed')]);

      status = 200;
      await runCli(['webhooks', 'update', endpoint.id, '--enable'], { env });
      const again = await runCli(['webhooks', 'redeliver', endpoint.id, event], { env });
      expect([again.code, again.stdout]).toEqual([0, expect.stringContaining(`${event} is pending again`)]);
      await credport.deliverWebhooksNow();
      expect(received.map((r) => r.headers['webhook-id'])).toEqual([event, event, event]);
      expect(verify(endpoint.secret, received[2]!)).toMatchObject({ type: 'sync.failed', data: { workspace: 'acme' } });
      const delivered = await runCli(['webhooks', 'deliveries', endpoint.id, '--status', 'delivered', '--json'], { env });
      expect((JSON.parse(delivered.stdout) as { id: string }[]).map((d) => d.id)).toEqual([event]);
      // Only a failed one is sent again: the answer names why, exit 2.
      const twice = await runCli(['webhooks', 'redeliver', endpoint.id, event], { env });
      expect([twice.code, twice.stderr]).toEqual([2, expect.stringContaining('only a failed delivery is sent again')]);
    } finally {
      await credport.close();
    }
  });
});
