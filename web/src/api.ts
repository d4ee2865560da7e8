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

/**
 * The session token, per origin and per tab: sessionStorage is never sent anywhere on its own (as a
 * cookie would be), another port's page cannot read it, and it survives a reload of this tab only.
 */
const SESSION_KEY = 'credport.session';

/**
 * The Connect page's bearer, in this module's memory only: once the page calls holdBearerInMemory(),
 * sessionStorage is never read or written (a framed page's storage outlives the session it was for).
 */
let inMemory: { bearer?: string } | undefined;

/** From now on the caller's token is `setBearer`'s, held in memory; storage is left alone. */
export function holdBearerInMemory(): void {
  inMemory ??= {};
}

export function setBearer(bearer: string): void {
  holdBearerInMemory();
  inMemory!.bearer = bearer;
}

const signedOutListeners = new Set<(problem: Partial<ApiProblem>) => void>();

/** Called on any 401 with the server's problem: the session is gone (or never was), so the page says how to sign in. */
export function onSignedOut(listener: (problem: Partial<ApiProblem>) => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * Every call to credport's API, with the session token as a Bearer header; a body is always JSON,
 * which the server requires of state-changing requests. Nothing is cached or stored.
 */
export async function api<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers = sessionHeaders({ accept: 'application/json' });
  // No cookie goes out (credport sets none), and the token goes nowhere but this origin's API.
  const init: RequestInit = { method, headers, credentials: 'omit', cache: 'no-store' };
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
    if (response.status === 401) signedOut((data ?? {}) as Partial<ApiProblem>);
    throw new ApiError(response.status, (data ?? {}) as Partial<ApiProblem>);
  }
  return data as T;
}

/** Headers for a request to credport's API: these, and the session token when this tab has one. */
export function sessionHeaders(headers: Record<string, string>): Record<string, string> {
  const token = inMemory ? inMemory.bearer : sessionStorage.getItem(SESSION_KEY);
  return token ? { ...headers, authorization: `Bearer ${token}` } : headers;
}

/** The session is gone (a 401) or ended: this tab forgets it, and the page says how to sign in. */
export function signedOut(problem: Partial<ApiProblem> = {}): void {
  if (inMemory) delete inMemory.bearer;
  else sessionStorage.removeItem(SESSION_KEY);
  for (const listener of signedOutListeners) listener(problem);
}

/**
 * Signs this tab in when the page was opened with the link `credport serve` printed: its login code
 * is in the fragment (`#login=...`), which the browser sent to no server. It leaves the address bar
 * and the history at once, then goes to the server once, in a POST body, for a session token.
 * Answers whether a code was there and did not work (used already, or not valid).
 */
export async function signInFromLink(): Promise<{ failed: boolean }> {
  const code = /^#login=([\w-]+)$/.exec(location.hash)?.[1];
  if (!code) return { failed: false };
  history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  // Not through api(): a refused code must not sign out a tab that already has a session.
  const answer = await fetch('/api/v1/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ code }),
    credentials: 'omit',
    cache: 'no-store',
  }).catch(() => undefined);
  const token = answer?.ok ? ((await answer.json()) as { token?: unknown }).token : undefined;
  if (typeof token !== 'string') return { failed: true };
  sessionStorage.setItem(SESSION_KEY, token);
  return { failed: false };
}

/** Signs out: the server ends the session, and this tab forgets its token. */
export async function signOut(): Promise<void> {
  try {
    await api<void>('DELETE', '/session');
  } finally {
    signedOut();
  }
}

/** The message to show for any failure: the server's own words when it sent some. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return 'credport could not be reached: is credport serve still running?';
}
