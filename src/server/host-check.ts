import type { FastifyInstance } from 'fastify';
import { isLoopbackHost } from '../http/origin-policy.js';

/**
 * DNS rebinding: a page on attacker.example can make its own name resolve to 127.0.0.1 and then
 * talk to this server as a same-origin page would (its Origin and Host both say attacker.example).
 * A connection that arrived on a loopback address must therefore name a loopback host
 * (localhost, 127.x, [::1]); connections on other interfaces (`--host 0.0.0.0`) are not checked.
 */
export function registerHostCheck(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!isLoopbackAddress(request.socket.localAddress)) return;
    if (isLoopbackHost(hostnameOf(request.headers.host))) return;
    await reply.code(403).type('application/problem+json').send({
      type: 'https://credport.dev/problems/host_not_allowed',
      title: 'Forbidden',
      status: 403,
      detail: 'this server answers only requests addressed to localhost, 127.0.0.1 or [::1] (Host header)',
      code: 'host_not_allowed',
      exitCode: 2,
    });
  });
}

function isLoopbackAddress(address: string | undefined): boolean {
  // A dual-stack listener reports an IPv4 peer as ::ffff:127.0.0.1.
  return address !== undefined && isLoopbackHost(address.replace(/^::ffff:/i, ''));
}

/** The host name of a Host header ("127.0.0.1:8737", "[::1]:8737"), or '' when it is missing or malformed. */
function hostnameOf(host: string | undefined): string {
  // Anything beyond host[:port] (user info, a path) is not a Host header.
  if (!host || /[@/?#\\\s]/.test(host)) return '';
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return '';
  }
}
