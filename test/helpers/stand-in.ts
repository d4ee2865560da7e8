import { createServer, type Socket } from 'node:net';

/**
 * A TCP listener on a loopback port standing for a service on this machine (Redis, PostgreSQL, an
 * admin page) that a tenant's credential must never reach: it counts every connection, and answers
 * each with a small JSON 200, as a service that replies would.
 */
const ANSWER = '{"id":"tea_redis","name":"an internal one"}';

export async function startStandIn(): Promise<{ port: number; heard: () => number; close: () => Promise<void> }> {
  let heard = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    heard += 1;
    sockets.add(socket);
    socket.end(
      `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${ANSWER.length}\r\nconnection: close\r\n\r\n${ANSWER}`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    heard: () => heard,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
