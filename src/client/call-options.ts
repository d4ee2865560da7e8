/** What any call of `credport/client` may add: a signal to abort it, headers (a `last-event-id` to resume events), a look at the answer. */
export interface CallOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Sees a 2xx answer before its body is read: its headers (a page's `Link`, see nextCursor; the rate-limit counters). */
  onResponse?: (response: Response) => void;
}

/** One Server-Sent Event: `id:` (send it back as `last-event-id` to resume after it), `event:` its kind, `data:` as JSON. */
export interface ServerSentEvent<T> {
  id: string | undefined;
  event: string;
  data: T;
}

/** An operation whose answer is text/event-stream: its events, in order, until the server ends the stream. */
export type EventStream<T> = AsyncIterable<ServerSentEvent<T>>;
