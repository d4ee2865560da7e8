import { isIP } from 'node:net';
import { InputError } from '../errors.js';

/** localhost, 127.0.0.0/8 and ::1: the only places plain HTTP may carry a secret. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * Checks a credential's base URL: HTTPS anywhere, plain HTTP only to loopback, no user info,
 * query or fragment. Returns it normalised (no trailing slash).
 */
export function checkBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError('base URL (baseUrl) is not a valid URL', { field: 'baseUrl' });
  }
  const secure = url.protocol === 'https:';
  const loopback = url.protocol === 'http:' && isLoopbackHost(url.hostname);
  if (!secure && !loopback) {
    throw new InputError('base URL (baseUrl) must be https://, or http:// to a loopback address (localhost, 127.0.0.1, [::1])', {
      field: 'baseUrl',
    });
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new InputError('base URL (baseUrl) must not carry user info, a query or a fragment', { field: 'baseUrl' });
  }
  return url.toString().replace(/\/+$/, '');
}

/** The part of a manifest's `http` block that says where a secret may go. */
export interface ManifestHosts {
  baseUrl: string;
  allowedHosts: readonly string[];
  regions?: { urls: Record<string, string> };
}

/**
 * Where a credential's secret may go: its own origin, and the HTTPS hosts its manifest names, but
 * those only while the credential lives on one of the manifest's own origins (its default base URL
 * or a region's). A credential pointed elsewhere (an emulator, a proxy, a vendor's custom domain)
 * keeps its secret on that origin: the manifest's hosts are the provider's, and a token issued for
 * or routed through another origin has no business there.
 */
export class OriginPolicy {
  private readonly origin: string;
  private readonly exact: Set<string>;
  private readonly suffixes: string[];

  constructor(baseUrl: string, manifest: ManifestHosts) {
    this.origin = new URL(baseUrl).origin;
    const own = new Set([manifest.baseUrl, ...Object.values(manifest.regions?.urls ?? {})].map((url) => new URL(url).origin));
    const hosts = own.has(this.origin) ? manifest.allowedHosts : [];
    this.exact = new Set(hosts.filter((h) => !h.startsWith('*.')));
    this.suffixes = hosts.filter((h) => h.startsWith('*.')).map((h) => h.slice(1));
  }

  allows(url: URL): boolean {
    if (url.origin === this.origin) return true;
    if (url.protocol !== 'https:' || url.port !== '') return false;
    const host = url.hostname.toLowerCase();
    if (this.exact.has(host)) return true;
    return this.suffixes.some((suffix) => matchesHostPattern(host, `*${suffix}`));
  }
}

/** A lowercase host name against a manifest's pattern: exact, or "*.api.frontapp.com" with exactly one label in front of the suffix. */
export function matchesHostPattern(host: string, pattern: string): boolean {
  if (!pattern.startsWith('*.')) return host === pattern;
  const suffix = pattern.slice(1);
  return host.endsWith(suffix) && /^[a-z0-9-]+$/.test(host.slice(0, -suffix.length));
}
