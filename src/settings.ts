import { delimiter } from 'node:path';
import { InputError } from './errors.js';
import { printable } from './text/printable.js';
import { readDuration } from './text/read-time.js';
import { DEFAULT_HTTP, type HttpSettings } from './http/http-settings.js';

/** Extra connector folders from CREDPORT_CONNECTORS (path-delimited, like PATH). */
export function connectorDirsFromEnv(env: NodeJS.ProcessEnv): string[] {
  return (env.CREDPORT_CONNECTORS ?? '').split(delimiter).filter((dir) => dir.trim() !== '');
}

/** CREDPORT_HTTP_TIMEOUT_MS and CREDPORT_HTTP_RETRIES over the defaults. */
export function httpSettingsFromEnv(env: NodeJS.ProcessEnv, overrides: Partial<HttpSettings> = {}): HttpSettings {
  return {
    timeoutMs: overrides.timeoutMs ?? integer(env.CREDPORT_HTTP_TIMEOUT_MS, 'CREDPORT_HTTP_TIMEOUT_MS', 1) ?? DEFAULT_HTTP.timeoutMs,
    retries: overrides.retries ?? integer(env.CREDPORT_HTTP_RETRIES, 'CREDPORT_HTTP_RETRIES', 0) ?? DEFAULT_HTTP.retries,
  };
}

function integer(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InputError(`${name} must be a whole number of at least ${min}`, { field: name });
  return n;
}

/** CREDPORT_LEASE_MS: how long a destination's lease outlives a sync that stopped renewing it. */
export function leaseMsFromEnv(env: NodeJS.ProcessEnv): { leaseMs?: number } {
  const leaseMs = integer(env.CREDPORT_LEASE_MS, 'CREDPORT_LEASE_MS', 300);
  return leaseMs === undefined ? {} : { leaseMs };
}

/** CREDPORT_WEBHOOK_TIMEOUT_MS: how long a webhook receiver has to answer (default 10 s). */
export function webhookTimeoutFromEnv(env: NodeJS.ProcessEnv): { timeoutMs?: number } {
  const timeoutMs = integer(env.CREDPORT_WEBHOOK_TIMEOUT_MS, 'CREDPORT_WEBHOOK_TIMEOUT_MS', 100);
  return timeoutMs === undefined ? {} : { timeoutMs };
}

/** CREDPORT_ALLOWED_ORIGINS: origins a workspace's credentials may use besides the connectors' own, comma- or space-separated (`https://x`, `front=http://127.0.0.1:4010`). */
export function allowedOriginsFromEnv(env: NodeJS.ProcessEnv): string[] {
  return (env.CREDPORT_ALLOWED_ORIGINS ?? '').split(/[\s,]+/).filter((entry) => entry !== '');
}

/** How long the fleet waits out its own servers being away before it gives up: 15 minutes unless CREDPORT_RETRY_FOR says. */
export const DEFAULT_RETRY_FOR_MS = 15 * 60_000;

/**
 * CREDPORT_RETRY_FOR (`90s`, `15m`, `2h`): how long a queued sync is tried again while the store or
 * the queue is away, and how long a worker or `serve` waits for a lost Redis before it exits.
 */
export function retryForMsFromEnv(env: NodeJS.ProcessEnv): number {
  const value = env.CREDPORT_RETRY_FOR?.trim();
  if (!value) return DEFAULT_RETRY_FOR_MS;
  const ms = readDuration(value) ?? 0;
  if (ms < 1_000)
    throw new InputError(
      `CREDPORT_RETRY_FOR must be a duration of a second or more such as 90s, 15m or 2h, not "${printable(value, 40)}"`,
      { field: 'CREDPORT_RETRY_FOR' },
    );
  return ms;
}
