import { lookup as systemLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { InputError, OutboundRefusedError } from '../errors.js';
import { printable } from '../text/printable.js';
import { isPublicAddress } from './address-ranges.js';
import { isLoopbackHost, matchesHostPattern } from './origin-policy.js';

/**
 * Who a credential's requests act for. The operator (the CLI, the server's own API token, its
 * browser session) may point a credential anywhere HTTPS reaches, or at loopback over HTTP. A
 * tenant (a workspace token, an end-user session, and any credential a tenant pointed somewhere)
 * may use only the connector's own origins and those the operator allows, and never an address of
 * this machine or the networks behind it.
 */
export type Reach = 'operator' | 'tenant';

/** The reach of a caller: a confined one (a workspace token, an end-user session) is a tenant; the operator is not confined. */
export function reachOf(caller: { confined?: boolean }): Reach {
  return caller.confined ? 'tenant' : 'operator';
}

/** What the policy needs of a connector: its id, title and the origins its manifest names. */
export interface ConnectorOrigins {
  id: string;
  manifest: { title: string; http: { baseUrl: string; regions?: { urls: Record<string, string> }; customDomains?: readonly string[] } };
}

/** The system resolver's shape with `all: true`, replaceable by a test's. */
export type Resolver = (
  hostname: string,
  options: { all: true; family?: number },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/** The agents a tenant's requests connect through: their lookup refuses every non-public address. */
export interface GuardedAgents {
  http: HttpAgent;
  https: HttpsAgent;
}

interface Allowance {
  origin: string;
  /** Only for this connector's credentials; undefined: any connector. */
  connector?: string;
}

const PRIVATE =
  "it is an address of this machine or a private network (loopback, private, link-local or reserved), which a workspace's " +
  'credentials never reach unless the operator allows that origin';
const CONNECTOR_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * The name an allowance gives webhook endpoints instead of a connector: `webhooks=<origin>` lets a
 * workspace's endpoints be sent to that origin (a receiver on loopback or a private network). An
 * allowance for every connector (no name) does not reach webhooks: an origin allowed for
 * credentials' requests is not thereby a place a tenant may have credport POST to.
 */
export const WEBHOOKS_ALLOWANCE = 'webhooks';

/**
 * The operator's policy for where credentials may send requests. The check on the URL comes
 * first (no connection is made for an origin a tenant may not use), and the check on the address
 * is made when connecting, by the lookup of the agents tenants' requests use: a name that resolves
 * to a public address when saved and to 127.0.0.1 when used (DNS rebinding) is refused then.
 * One check per connection: a kept-alive socket was checked when it was opened.
 */
export class OutboundPolicy {
  private readonly allowances: Allowance[] = [];
  private readonly agents: GuardedAgents;

  constructor(options: { allow?: readonly string[]; resolve?: Resolver } = {}) {
    for (const entry of options.allow ?? []) this.allow(entry);
    const lookup = guardedLookup(options.resolve ?? (systemLookup as unknown as Resolver));
    // Their own pools: a socket a tenant's request reuses was opened through the guarded lookup.
    this.agents = { http: new HttpAgent({ keepAlive: true, lookup }), https: new HttpsAgent({ keepAlive: true, lookup }) };
  }

  /** Allows tenants an origin: `https://api.example.com`, or `front=http://127.0.0.1:4010` for one connector's credentials. */
  allow(entry: string): void {
    const match = /^(?:([^=\s]+)=)?(.+)$/.exec(entry.trim());
    const connector = match?.[1];
    const value = match?.[2] ?? '';
    if (connector !== undefined && !CONNECTOR_ID.test(connector))
      throw new InputError(
        `"${printable(entry, 80)}" names no connector before "=" (connector=origin, e.g. front=https://api.example.com)`,
        { field: 'allowedOrigins' },
      );
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new InputError(`"${printable(entry, 80)}" is not an origin such as https://api.example.com`, { field: 'allowedOrigins' });
    }
    if (
      (url.protocol !== 'https:' && url.protocol !== 'http:') ||
      url.username ||
      url.password ||
      `${url.origin}/` !== url.href.replace(/\/+$/, '/')
    ) {
      throw new InputError(
        `"${printable(entry, 80)}" is not an origin: give scheme, host and port only (https://api.example.com, http://127.0.0.1:4010)`,
        { field: 'allowedOrigins' },
      );
    }
    this.allowances.push({ origin: url.origin, ...(connector !== undefined ? { connector } : {}) });
  }

  /** The origins the operator allows for a connector's credentials, for forms to offer. */
  allowedFor(connectorId: string): string[] {
    return [...new Set(this.allowances.filter((a) => a.connector === undefined || a.connector === connectorId).map((a) => a.origin))];
  }

  /**
   * Whether `reach` may point a connector's credentials at an origin other than the connector's own
   * (what a form's Base URL field is for): the operator always; a tenant only where the operator
   * allowed origins for that connector, the same allowances check() lets through.
   */
  allowsOtherOrigins(connectorId: string, reach: Reach): boolean {
    return reach === 'operator' || this.allowances.some((a) => a.connector === undefined || a.connector === connectorId);
  }

  /**
   * Refuses, before any connection, a base URL `reach` may not point a credential at. The
   * operator's own rule (HTTPS anywhere, HTTP to loopback) is checkBaseUrl's, applied before this.
   */
  check(connector: ConnectorOrigins, baseUrl: string, reach: Reach, field?: string): void {
    if (reach === 'operator') return;
    const url = new URL(baseUrl);
    if (this.allowedOrigin(connector.id, url.origin)) return;
    const rule =
      `a workspace's ${connector.manifest.title} credentials may point only at the connector's own origins ` +
      `(${this.ownOrigins(connector).join(', ')}) or at origins the operator allows (CREDPORT_ALLOWED_ORIGINS, credport serve ` +
      `--allow-origin)`;
    if (!this.ownOrigin(connector, url))
      throw new OutboundRefusedError(
        `the outbound policy refuses ${printable(url.origin, 120)}: ${rule}`,
        field === undefined ? {} : { field },
      );
    if (!publicHost(url.hostname))
      throw new OutboundRefusedError(
        `the outbound policy refuses ${printable(url.origin, 120)}: ${PRIVATE}`,
        field === undefined ? {} : { field },
      );
  }

  /**
   * How a request of `reach` to `url` connects: through the guarded agents (a tenant's, to any
   * origin the operator did not allow), or the default ones (undefined). An address written in the
   * URL is checked here, since no lookup runs for it.
   */
  route(connectorId: string, url: URL, reach: Reach): GuardedAgents | undefined {
    if (reach === 'operator' || this.allowedOrigin(connectorId, url.origin)) return undefined;
    if (!publicHost(url.hostname)) throw new OutboundRefusedError(`the outbound policy refuses ${printable(url.origin, 120)}: ${PRIVATE}`);
    return this.agents;
  }

  /**
   * Refuses, before any connection, a webhook URL `reach` may not register: never user info or a
   * fragment; an origin the operator allowed (`webhooks=<origin>`) for anyone; otherwise the
   * operator HTTPS anywhere or HTTP to loopback, a tenant HTTPS to a public address only (the
   * address it resolves to is checked again when connecting: routeWebhook). Answers it normalised.
   */
  checkWebhookUrl(value: string, reach: Reach, field = 'url'): string {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new InputError(`"${printable(value, 80)}" is not a URL such as https://hooks.example.com/credport`, { field });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new InputError(`a webhook URL is https:// (or http:// where allowed), not ${printable(url.protocol, 20)}`, { field });
    if (url.username || url.password || url.hash)
      throw new InputError('a webhook URL must not carry user info or a fragment: the signature authenticates each delivery', { field });
    if (this.webhookOriginAllowed(url.origin)) return url.href;
    const allowing = `the operator may allow an origin with ${WEBHOOKS_ALLOWANCE}=<origin> (credport serve --allow-origin, CREDPORT_ALLOWED_ORIGINS)`;
    if (reach === 'operator') {
      if (url.protocol === 'https:' || isLoopbackHost(url.hostname)) return url.href;
      throw new OutboundRefusedError(`a webhook URL must be https://, or http:// to loopback; ${allowing}`, { field });
    }
    if (url.protocol !== 'https:')
      throw new OutboundRefusedError(
        `the outbound policy refuses ${printable(url.origin, 120)}: a workspace's webhooks go over https:// only; ${allowing}`,
        { field },
      );
    if (!publicHost(url.hostname))
      throw new OutboundRefusedError(
        `the outbound policy refuses ${printable(url.origin, 120)}: ${PRIVATE.replace("a workspace's credentials never reach", "a workspace's webhooks are never sent to")}`,
        { field },
      );
    return url.href;
  }

  /**
   * How a delivery to a webhook URL registered with `reach` connects: the default agents for the
   * operator's endpoints and allowed origins, else the guarded agents (their lookup refuses a name
   * that resolves to a non-public address now, though it resolved to a public one when registered).
   */
  routeWebhook(url: URL, reach: Reach): GuardedAgents | undefined {
    if (reach === 'operator' || this.webhookOriginAllowed(url.origin)) return undefined;
    if (!publicHost(url.hostname)) throw new OutboundRefusedError(`the outbound policy refuses ${printable(url.origin, 120)}: ${PRIVATE}`);
    return this.agents;
  }

  private webhookOriginAllowed(origin: string): boolean {
    return this.allowances.some((a) => a.origin === origin && a.connector === WEBHOOKS_ALLOWANCE);
  }

  private allowedOrigin(connectorId: string, origin: string): boolean {
    return this.allowances.some((a) => a.origin === origin && (a.connector === undefined || a.connector === connectorId));
  }

  private ownOrigins(connector: ConnectorOrigins): string[] {
    const { http } = connector.manifest;
    const origins = [http.baseUrl, ...Object.values(http.regions?.urls ?? {})].map((u) => new URL(u).origin);
    return [...new Set([...origins, ...(http.customDomains ?? []).map((d) => `https://${d}`)])];
  }

  private ownOrigin(connector: ConnectorOrigins, url: URL): boolean {
    if (this.ownOrigins(connector).includes(url.origin)) return true;
    if (url.protocol !== 'https:' || url.port !== '') return false;
    return (connector.manifest.http.customDomains ?? []).some((pattern) => matchesHostPattern(url.hostname.toLowerCase(), pattern));
  }
}

/** A host that is not written as a non-public address, nor named as this machine. */
function publicHost(hostname: string): boolean {
  const host = hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
  if (isIP(host) !== 0) return isPublicAddress(host);
  return host !== 'localhost' && !host.endsWith('.localhost');
}

/** A lookup for net.connect that resolves every address of the name and refuses the name if any is not public. */
export function guardedLookup(resolve: Resolver): LookupFunction {
  return ((hostname: string, options: unknown, callback: (...args: unknown[]) => void) => {
    const given =
      typeof options === 'object' && options !== null
        ? (options as { all?: boolean; family?: number })
        : { family: options as number | undefined };
    resolve(hostname, { all: true, ...(given.family ? { family: given.family } : {}) }, (error, addresses) => {
      if (error) return callback(error);
      // Every address, not the first: a name answering one public and one private address is refused.
      if (addresses.length === 0 || addresses.some((a) => !isPublicAddress(a.address))) {
        return callback(
          new OutboundRefusedError(
            `the outbound policy refuses ${printable(hostname, 120)}: it resolves to ${PRIVATE.replace(/^it is /, '')}`,
          ),
        );
      }
      if (given.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  }) as LookupFunction;
}
