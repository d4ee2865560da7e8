import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { openProcessMetrics } from '../../src/metrics/process-metrics.js';
import { type Credport, openCredport } from '../../src/open-credport.js';
import { total } from '../helpers/prometheus-text.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

// The gauges a scrape reads from the store, and readiness, on a process's own credport.

let home: string;
let credport: Credport;
beforeEach(async () => {
  home = await tempHome();
  credport = await openCredport({ home, env: {} });
});
afterEach(async () => {
  await credport.close();
  await removeHome(home);
});

describe("a process's metrics", () => {
  it('count the webhook backlog (ready events and pending deliveries) on each scrape, and are ready while the store answers', async () => {
    const probes = await openProcessMetrics(credport, {});
    try {
      expect(total(await probes.metrics.scrape(), 'credport_webhook_backlog')).toBe(0);
      await credport.outbox.publish('default', 'sync.failed', { workspace: 'default' });
      await credport.outbox.publish('default', 'sync.failed', { workspace: 'default' });
      expect(total(await probes.metrics.scrape(), 'credport_webhook_backlog')).toBe(2);
      // No queue configured: no queue gauge at all, rather than a zero that says nothing waits.
      expect(await probes.metrics.scrape()).not.toContain('credport_queue_jobs');
      expect(await probes.readiness.ready()).toBe(true);
    } finally {
      await probes.close();
    }
  });
});
