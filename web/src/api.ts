import type { ApiProblem } from '../../src/generated/api-problem.js';

/** An API refusal as problem details: the status, credport's code, and the field as a JSON pointer. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<ApiProblem>,
  ) {
    super(problem.detail ?? problem.title ?? `the server answered ${status}`);
  }

  get code(): string | undefined {
    return this.problem.code;
  }

  get field(): string | undefined {
    return this.problem.field;
  }
}

const signedOutListeners = new Set<() => void>();

/** Called on any 401: the session is gone (or never was), so the page says how to sign in. */
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * Every call to credport's API. The session cookie rides along (same origin); a body is always
 * JSON, which the server requires of state-changing requests. Nothing is cached or stored.
 */
export async function api<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const init: RequestInit = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`/api/v1${path}`, init);
  const text = await response.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    if (response.status === 401) for (const listener of signedOutListeners) listener();
    throw new ApiError(response.status, (data ?? {}) as Partial<ApiProblem>);
  }
  return data as T;
}

/** The message to show for any failure: the server's own words when it sent some. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return 'credport could not be reached: is credport serve still running?';
}
