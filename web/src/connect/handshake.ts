import type { ConnectEvent } from '../../../src/generated/connect-event.js';
import type { ConnectMessage, ConnectTokenPayload } from '../../../src/generated/connect-message.js';

export interface Handshake {
  /** The token message's payload, once: from the host window, from an allowed origin, for this page's session. */
  token: Promise<ConnectTokenPayload>;
  /** An event to the host: only to the origin the token came from, and nothing before it came. */
  send: (event: ConnectEvent) => void;
}

/**
 * The page's half of the postMessage protocol. The host is the window that framed this page (or,
 * in a popup, the one that opened it); every message to it names an exact target origin, never
 * "*". Until the token comes, `hello` goes to each allowed origin in turn and the browser delivers
 * only the one matching the host page. The token is taken once, and only when it comes from the
 * host window itself, from an allowed origin, in credport's envelope, for this page's session;
 * anything else (another window, another origin, a second token) is ignored.
 */
export function startHandshake({ sessionId, origins }: { sessionId: string; origins: readonly string[] }): Handshake {
  const host: Window | null = window.parent !== window ? window.parent : (window.opener as Window | null);
  let hostOrigin: string | undefined;
  const token = new Promise<ConnectTokenPayload>((resolve) => {
    const listen = (event: MessageEvent) => {
      if (host === null || event.source !== host || !origins.includes(event.origin)) return;
      const payload = tokenPayload(event.data, sessionId);
      if (payload === undefined) return;
      hostOrigin = event.origin;
      window.removeEventListener('message', listen);
      resolve(payload);
    };
    window.addEventListener('message', listen);
  });
  if (host !== null) for (const origin of origins) host.postMessage(envelope({ type: 'hello', payload: { sessionId } }), origin);
  return {
    token,
    send: (event) => {
      if (host !== null && hostOrigin !== undefined) host.postMessage(envelope(event), hostOrigin);
    },
  };
}

function envelope(message: { type: ConnectMessage['type']; payload: object }): ConnectMessage {
  return { source: 'credport', version: 1, type: message.type, payload: message.payload } as ConnectMessage;
}

/**
 * A token message's payload, or undefined. The token must be this session's (`ccs_<tail>.` for
 * `csn_<tail>`): a page framed for one session does not run another.
 */
function tokenPayload(data: unknown, sessionId: string): ConnectTokenPayload | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const message = data as Partial<Record<'source' | 'version' | 'type' | 'payload', unknown>>;
  if (message.source !== 'credport' || message.version !== 1 || message.type !== 'token') return undefined;
  const payload = message.payload as Partial<Record<'sessionToken' | 'appearance', unknown>> | null | undefined;
  if (typeof payload !== 'object' || payload === null || typeof payload.sessionToken !== 'string') return undefined;
  if (!payload.sessionToken.startsWith(`ccs_${sessionId.slice('csn_'.length)}.`)) return undefined;
  const appearance = typeof payload.appearance === 'object' && payload.appearance !== null ? payload.appearance : undefined;
  return { sessionToken: payload.sessionToken, ...(appearance ? { appearance } : {}) };
}
