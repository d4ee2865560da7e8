import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One POST as the receiver got it. */
export interface Received {
  body: string;
  headers: IncomingHttpHeaders;
}

/** What the receiver does with the next request: answer a status (and a Location), or never answer. */
export type Behaviour = { status: number; location?: string; text?: string } | 'hang';

/**
 * A webhook receiver on loopback, as a host's back end would be: it records each POST and answers
 * as `behave` says (changeable mid-test: down with 500, hanging, then recovered). `verified()`
 * checks every delivery with the published `standardwebhooks` package, never credport's own code.
 */
export async function startReceiver(port = 0) {
  const received: Received[] = [];
  const hanging = new Set<ServerResponse>();
  const state = { behave: ((_r: Received): Behaviour => ({ status: 204 })) as (r: Received) => Behaviour };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const got: Received = { body: Buffer.concat(chunks).toString('utf8'), headers: request.headers };
      received.push(got);
      const behaviour = state.behave(got);
      if (behaviour === 'hang') {
        hanging.add(response);
        return;
      }
      response.writeHead(behaviour.status, behaviour.location ? { location: behaviour.location } : {});
      response.end(behaviour.text ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${address.port}`,
    port: address.port,
    received,
    /** How the next requests are answered. */
    behave(next: (r: Received) => Behaviour) {
      state.behave = next;
    },
    /** Every request verified with `secret` (throws on the first that does not verify); the parsed bodies. */
    verified(secret: string): { id: string; type: string; timestamp: string; data: Record<string, unknown> }[] {
      const wh = new Webhook(secret);
      return received.map((r) => {
        const payload = wh.verify(r.body, {
          'webhook-id': String(r.headers['webhook-id']),
          'webhook-timestamp': String(r.headers['webhook-timestamp']),
          'webhook-signature': String(r.headers['webhook-signature']),
        }) as { type: string; timestamp: string; data: Record<string, unknown> };
        return { id: String(r.headers['webhook-id']), ...payload };
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
