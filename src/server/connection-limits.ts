import { createServer, type RequestListener, type Server } from 'node:http';

/**
 * How long, and how many, clients may hold the server's connections. Without these a client that
 * sends its headers or its body a byte at a time, or opens connections and says nothing, holds
 * them for minutes, and enough of them hold every file descriptor.
 */
export interface ConnectionLimits {
  /** The request line and headers must arrive within this (ms): slow headers are cut with 408. */
  headersTimeout: number;
  /**
   * The whole request, headers and body, must arrive within this (ms): a slow body is cut with 408.
   * It ends when the request is received, so a long answer (an event stream) is not cut by it.
   */
  requestTimeout: number;
  /** A connection with no traffic either way for this long (ms) is closed (an event stream sends a keepalive well within it). */
  connectionTimeout: number;
  /** An idle keep-alive connection is closed after this (ms). */
  keepAliveTimeout: number;
  /** Connections open at once; a further one is closed as soon as it is accepted. */
  maxConnections: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  connectionTimeout: 60_000,
  keepAliveTimeout: 5_000,
  maxConnections: 512,
};

export function connectionLimits(given: Partial<ConnectionLimits> | undefined): ConnectionLimits {
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...given };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0)
      throw new RangeError(`connection limit ${name} must be a positive whole number, not ${String(value)}`);
  }
  // Node refuses headersTimeout above requestTimeout: the headers are part of the request.
  return { ...limits, headersTimeout: Math.min(limits.headersTimeout, limits.requestTimeout) };
}

/**
 * Fastify's serverFactory: a node HTTP server with the limits set, for every address Fastify binds
 * (a name like localhost binds two, each with its own cap).
 */
export function limitedServer(limits: ConnectionLimits) {
  return (handler: RequestListener): Server => {
    const server = createServer(
      {
        headersTimeout: limits.headersTimeout,
        requestTimeout: limits.requestTimeout,
        keepAliveTimeout: limits.keepAliveTimeout,
        // Node looks for expired requests this often (every 30 s by default, which would let a slow
        // client outlive a short timeout by that much).
        connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeout / 2))),
      },
      handler,
    );
    server.keepAliveTimeout = limits.keepAliveTimeout;
    // Idle either way this long: the socket is destroyed (a request under way or not).
    server.setTimeout(limits.connectionTimeout);
    // Past the cap a connection is closed as it is accepted, before a byte is read.
    server.maxConnections = limits.maxConnections;
    return server;
  };
}
