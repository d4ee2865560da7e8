import diagnostics from 'node:diagnostics_channel';

/**
 * What the services announce for metrics (and later traces) to count: Node's diagnostics_channel,
 * so the services import nothing of prom-client or OpenTelemetry, and a process that subscribes
 * to nothing pays one `hasSubscribers` check per event. Messages are plain objects of bounded,
 * non-secret values: a connector id, an enum, a status class, a count; never an id, a name, a URL
 * or a header, since any subscriber (a metric label, a span attribute) may show them.
 */
export interface TelemetryMessages {
  'credport:verification': { connector: string; outcome: VerificationOutcome };
  'credport:provider-request': { connector: string; statusClass: StatusClass; durationMs: number };
  /** `cause`: the provider answered 429 (`429`), or the credential's gate held the request (its window spent, a pause). */
  'credport:rate-limit-wait': { connector: string; cause: '429' | 'gate' };
  'credport:sync-run': { outcome: SyncRunOutcome };
  'credport:sync-records': { connector: string; stream: string; direction: 'read' | 'write'; count: number };
  'credport:webhook-delivery': { outcome: 'delivered' | 'retrying' | 'failed' };
  'credport:connect-session': { outcome: ConnectSessionOutcome };
}

export type VerificationOutcome = 'ok' | 'refused' | 'unavailable' | 'error';
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'error';
/** `started` opens a run; the others end it. */
export type SyncRunOutcome = 'started' | 'succeeded' | 'failed' | 'cancelled';
export type ConnectSessionOutcome = 'created' | 'exchanged' | 'refused' | 'revoked';

export type TelemetryChannel = keyof TelemetryMessages;

export const TELEMETRY_CHANNELS: readonly TelemetryChannel[] = [
  'credport:verification',
  'credport:provider-request',
  'credport:rate-limit-wait',
  'credport:sync-run',
  'credport:sync-records',
  'credport:webhook-delivery',
  'credport:connect-session',
];

const channels = new Map<TelemetryChannel, diagnostics.Channel>(TELEMETRY_CHANNELS.map((name) => [name, diagnostics.channel(name)]));

/**
 * Publishes when someone listens. `message` is a function so that nobody listening costs no
 * object either (the provider request's hook runs on every request).
 */
export function publish<C extends TelemetryChannel>(name: C, message: () => TelemetryMessages[C]): void {
  const channel = channels.get(name)!;
  if (channel.hasSubscribers) channel.publish(message());
}

/**
 * Whether anyone listens: on a hot path (every provider answer, every page) checked before even the
 * message's function is made, so a process nobody measures allocates nothing there.
 */
export function heard(name: TelemetryChannel): boolean {
  return channels.get(name)!.hasSubscribers;
}

/** Subscribes to one channel; returns the unsubscribe. */
export function subscribe<C extends TelemetryChannel>(name: C, listener: (message: TelemetryMessages[C]) => void): () => void {
  const handler = (message: unknown) => listener(message as TelemetryMessages[C]);
  diagnostics.subscribe(name, handler);
  return () => void diagnostics.unsubscribe(name, handler);
}

/** An HTTP status as its class; no answer at all (a refused connection, a timeout) is `error`. */
export function statusClassOf(status: number | undefined): StatusClass {
  if (status === undefined || !Number.isInteger(status) || status < 100 || status > 599) return 'error';
  return `${Math.floor(status / 100)}xx` as StatusClass;
}
