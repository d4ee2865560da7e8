import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { subscribe } from '../telemetry/channels.js';

export interface MetricsSources {
  /** The registry's connector ids: the only connector label values besides `jsonl` and `other`. */
  connectors: readonly string[];
  /** Pending deliveries plus ready outbox events (asked on each scrape). */
  webhookBacklog?: () => Promise<number>;
  /** BullMQ's job counts by state, when this process has a queue (CREDPORT_QUEUE). */
  queueJobs?: () => Promise<Record<string, number>>;
}

export interface CredportMetrics {
  readonly registry: Registry;
  /** The exposition text (what /metrics answers). */
  scrape(): Promise<string>;
  /** Stops counting (unsubscribes from the telemetry channels). */
  stop(): void;
}

// What a scrape waits for a store or Redis count: a slow server must not hold the scrape past its timeout.
const SCRAPE_QUERY_MS = 1_000;
// Stream names come from the manifests; anything else (or a connector's odd name) is `other`.
const STREAM_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * One Prometheus registry per process (serve, worker), fed by the telemetry channels. Every label
 * is bounded: connector ids the registry knows (else `other`), enums, status classes, manifest
 * stream names; never an id, a name, a URL or anything a tenant typed.
 */
export function createMetrics(sources: MetricsSources): CredportMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters, which `promtool check metrics` refuses; each is the sum of its
  // by-type sibling (nodejs_active_handles{type}), which stays.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
    registry.removeSingleMetric(name);
  const known = new Set([...sources.connectors, 'jsonl']);
  const connector = (id: string) => (known.has(id) ? id : 'other');
  const stream = (name: string) => (STREAM_NAME.test(name) ? name : 'other');
  const registers = [registry];

  const verifications = new Counter({
    name: 'credport_verifications_total',
    help: 'Credentials proved against their provider (create, test, rotate, re-verify), by connector and outcome (ok, refused, unavailable, error).',
    labelNames: ['connector', 'outcome'],
    registers,
  });
  const requests = new Counter({
    name: 'credport_provider_requests_total',
    help: 'Requests sent to providers (every attempt, retries included), by connector and status class (2xx..5xx, error: no answer).',
    labelNames: ['connector', 'status_class'],
    registers,
  });
  const durations = new Histogram({
    name: 'credport_provider_request_duration_seconds',
    help: 'How long a provider took to answer one attempt, by connector.',
    labelNames: ['connector'],
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const rateWaits = new Counter({
    name: 'credport_rate_limit_waits_total',
    help: "Requests held for a provider's rate limit, by connector and cause (429: the provider refused and was waited out; gate: held before sending, its window spent).",
    labelNames: ['connector', 'cause'],
    registers,
  });
  const runs = new Counter({
    name: 'credport_sync_runs_total',
    help: 'Sync runs ended in this process, by outcome (succeeded, failed, cancelled).',
    labelNames: ['outcome'],
    registers,
  });
  const records = new Counter({
    name: 'credport_sync_records_total',
    help: 'Records read from a source or written to a destination, by connector, stream (as its manifest names it, else other) and direction.',
    labelNames: ['connector', 'stream', 'direction'],
    registers,
  });
  const running = new Gauge({ name: 'credport_syncs_running', help: 'Syncs running in this process now.', registers });
  const deliveries = new Counter({
    name: 'credport_webhook_deliveries_total',
    help: 'Webhook delivery attempts from this process, by outcome (delivered, retrying: failed and scheduled again, failed: retries spent).',
    labelNames: ['outcome'],
    registers,
  });
  const sessions = new Counter({
    name: 'credport_connect_sessions_total',
    help: 'Connect session events, by outcome (created, exchanged, refused: a token invalid or used, revoked).',
    labelNames: ['outcome'],
    registers,
  });
  new Gauge({
    name: 'credport_webhook_backlog',
    help: 'Webhook deliveries waiting to be sent plus ready events not yet fanned out, in the whole store (counted to 10000 on each scrape).',
    registers,
    async collect() {
      if (sources.webhookBacklog) this.set(await bounded(sources.webhookBacklog(), 'webhook backlog'));
    },
  });
  if (sources.queueJobs) {
    const queueJobs = sources.queueJobs;
    new Gauge({
      name: 'credport_queue_jobs',
      help: 'Sync jobs on the queue (CREDPORT_QUEUE), by BullMQ state (waiting, active, delayed, prioritized, waiting-children, completed, failed, paused).',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await bounded(queueJobs(), 'queue job counts');
        for (const [state, count] of Object.entries(counts)) if (STREAM_NAME.test(state)) this.set({ state }, count);
      },
    });
  }

  const unsubscribe = [
    subscribe('credport:verification', (m) => verifications.inc({ connector: connector(m.connector), outcome: m.outcome })),
    subscribe('credport:provider-request', (m) => {
      const label = connector(m.connector);
      requests.inc({ connector: label, status_class: m.statusClass });
      if (m.statusClass !== 'error') durations.observe({ connector: label }, m.durationMs / 1000);
    }),
    subscribe('credport:rate-limit-wait', (m) => rateWaits.inc({ connector: connector(m.connector), cause: m.cause })),
    subscribe('credport:sync-run', (m) => {
      if (m.outcome === 'started') return void running.inc();
      running.dec();
      runs.inc({ outcome: m.outcome });
    }),
    subscribe('credport:sync-records', (m) =>
      records.inc({ connector: connector(m.connector), stream: stream(m.stream), direction: m.direction }, m.count),
    ),
    subscribe('credport:webhook-delivery', (m) => deliveries.inc({ outcome: m.outcome })),
    subscribe('credport:connect-session', (m) => sessions.inc({ outcome: m.outcome })),
  ];
  return {
    registry,
    scrape: () => registry.metrics(),
    stop: () => {
      for (const off of unsubscribe) off();
    },
  };
}

/** A scrape-time count, or a failed collect (prom-client then fails the scrape, which Prometheus records as down). */
async function bounded<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${SCRAPE_QUERY_MS} ms`)), SCRAPE_QUERY_MS);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
