/** What any call of `credport/client` may add: a signal to abort it, headers (a `last-event-id` to resume events). */
export interface CallOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** One Server-Sent Event: `id:` (send it back as `last-event-id` to resume after it), `event:` its kind, `data:` as JSON. */
export interface ServerSentEvent<T> {
  id: string | undefined;
  event: string;
  data: T;
}

/** An operation whose answer is text/event-stream: its events, in order, until the server ends the stream. */
export type EventStream<T> = AsyncIterable<ServerSentEvent<T>>;
