import type { Credport } from '../open-credport.js';
import { type CredportMetrics, createMetrics } from './credport-metrics.js';
import { type ProbeClient, probeClient, type Readiness, readiness } from './readiness.js';

export interface ProcessMetrics {
  metrics: CredportMetrics;
  readiness: Readiness;
  close(): Promise<void>;
}

// A scrape counts the backlog up to here: enough to alert on, bounded in what it reads.
const BACKLOG_CAP = 10_000;

/**
 * The metrics and readiness of a serve or worker process: counters fed by the services' telemetry
 * channels, gauges asked on each scrape, and probes of the store, the master key and the Redis
 * servers the process was given (CREDPORT_QUEUE, CREDPORT_REDIS).
 */
export async function openProcessMetrics(credport: Credport, options: { queueUrl?: string; redisUrl?: string }): Promise<ProcessMetrics> {
  const probes: ProbeClient[] = [];
  const queueProbe = options.queueUrl ? probeClient(options.queueUrl) : undefined;
  if (queueProbe) probes.push(queueProbe);
  if (options.redisUrl && options.redisUrl !== options.queueUrl) probes.push(probeClient(options.redisUrl));
  let queueJobs: (() => Promise<Record<string, number>>) | undefined;
  let closeQueue = async () => undefined as unknown;
  if (queueProbe) {
    // Loaded here: BullMQ is for processes with a queue.
    const { Queue } = await import('bullmq');
    const { QUEUE_NAME } = await import('../queue/sync-queue.js');
    const queue = new Queue(QUEUE_NAME, { connection: queueProbe.client as never });
    queue.on('error', () => undefined);
    queueJobs = async () => {
      // Asked only when the probe is connected: BullMQ on a client that is away would wait, not fail.
      await queueProbe.ping();
      return queue.getJobCounts();
    };
    closeQueue = () => queue.close().catch(() => undefined);
  }
  const metrics = createMetrics({
    connectors: credport.registry.list().map((c) => c.id),
    webhookBacklog: async () => {
      const [pending, ready] = await Promise.all([
        credport.webhookDeliveries.pendingCount(BACKLOG_CAP),
        credport.outbox.readyCount(BACKLOG_CAP),
      ]);
      return Math.min(BACKLOG_CAP, pending + ready);
    },
    ...(queueJobs ? { queueJobs } : {}),
  });
  const ready = readiness({ store: () => credport.keys.checkReady(), redis: probes });
  return {
    metrics,
    readiness: ready,
    async close() {
      metrics.stop();
      await closeQueue();
      await ready.close();
    },
  };
}
