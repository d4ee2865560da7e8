import { type CredportOperations, OPERATIONS } from '../generated/credport-api.js';
import type { CallOptions, ServerSentEvent } from './call-options.js';
import { CredportProblem } from './credport-problem.js';
import { serverSentEvents } from './server-sent-events.js';

export interface CredportClientOptions {
  /** Where `credport serve` answers: `http://127.0.0.1:8737` (the paths carry /api/v1). */
  baseUrl: string;
  /** The API token or a workspace's token, sent as `Authorization: Bearer`. */
  token: string;
  /** Another fetch (a proxy's agent, a test's double); the global one by default. */
  fetch?: typeof fetch;
}

/** A method per operation of the OpenAPI document, named by its operationId (src/generated/credport-api.ts). */
export type CredportClient = CredportOperations;

interface Input {
  path?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
}

/**
 * A typed client of credport's HTTP API for a host's back end: `createCredportClient({ baseUrl,
 * token }).createCredential({ body })`. A problem answer is thrown as a CredportProblem; an event
 * stream is an async iterator. It uses the platform's fetch and nothing of the server.
 */
export function createCredportClient(options: CredportClientOptions): CredportClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const send = options.fetch ?? fetch;
  const authorization = `Bearer ${options.token}`;

  async function request(method: string, path: string, input: Input, accept: string, call: CallOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...call.headers, accept, authorization };
    if (input.body !== undefined) headers['content-type'] = 'application/json';
    const response = await send(url(base, path, input), {
      method,
      headers,
      ...(input.body !== undefined ? { body: JSON.stringify(input.body) } : {}),
      ...(call.signal ? { signal: call.signal } : {}),
    });
    if (!response.ok) throw await CredportProblem.from(response);
    call.onResponse?.(response);
    return response;
  }

  const client: Record<string, (input?: Input, call?: CallOptions) => unknown> = {};
  for (const [id, operation] of Object.entries(OPERATIONS)) {
    client[id] =
      'stream' in operation
        ? (input = {}, call) => events(() => request(operation.method, operation.path, input, 'text/event-stream', call))
        : async (input = {}, call) => {
            const response = await request(operation.method, operation.path, input, 'application/json', call);
            const text = await response.text();
            return text === '' ? undefined : JSON.parse(text);
          };
  }
  // Built from the generated table; CredportOperations, generated beside it, gives each method its types.
  return client as unknown as CredportClient;
}

/** The stream opens when iterated, so a problem (404, 401) is thrown from the first `next()`. */
async function* events(open: () => Promise<Response>): AsyncGenerator<ServerSentEvent<unknown>> {
  const response = await open();
  if (!response.body) return;
  yield* serverSentEvents<unknown>(response.body);
}

function url(base: string, path: string, input: Input): string {
  const filled = path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = input.path?.[name];
    if (value === undefined) throw new TypeError(`${name} is required in the path of ${path}`);
    return encodeURIComponent(value);
  });
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(input.query ?? {})) if (value !== undefined) query.append(name, String(value));
  const search = query.toString();
  return `${base}${filled}${search ? `?${search}` : ''}`;
}
