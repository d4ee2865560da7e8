import { describe, expect, it } from '@jest/globals';
import { createMetrics } from '../../src/metrics/credport-metrics.js';
import { heard, publish, statusClassOf, subscribe } from '../../src/telemetry/channels.js';
import { samples } from '../helpers/prometheus-text.js';

describe('telemetry channels', () => {
  it('build no message when nobody listens, and hand listeners the plain object', () => {
    let built = 0;
    const message = () => {
      built += 1;
      return { outcome: 'created' as const };
    };
    publish('credport:connect-session', message);
    expect([built, heard('credport:connect-session')]).toEqual([0, false]);
    const seen: unknown[] = [];
    const off = subscribe('credport:connect-session', (m) => seen.push(m));
    expect(heard('credport:connect-session')).toBe(true);
    publish('credport:connect-session', message);
    off();
    expect(heard('credport:connect-session')).toBe(false);
    publish('credport:connect-session', message);
    expect([built, seen]).toEqual([1, [{ outcome: 'created' }]]);
  });

  it('name a status by its class, and no answer as error', () => {
    expect([200, 204, 301, 429, 401, 503, undefined, 0, 600].map(statusClassOf)).toEqual([
      '2xx',
      '2xx',
      '3xx',
      '4xx',
      '4xx',
      '5xx',
      'error',
      'error',
      'error',
    ]);
  });
});

describe('metric labels', () => {
  it('are bounded: a connector the registry does not know and a stream name that is not a plain word become other', async () => {
    const metrics = createMetrics({ connectors: ['front'] });
    try {
      publish('credport:verification', () => ({ connector: 'https://evil.example.com/cred_123', outcome: 'ok' }));
      publish('credport:verification', () => ({ connector: 'front', outcome: 'refused' }));
      publish('credport:sync-records', () => ({ connector: 'jsonl', stream: 'orders /tmp/acme.jsonl', direction: 'write', count: 3 }));
      publish('credport:sync-records', () => ({ connector: 'front', stream: 'contacts', direction: 'read', count: 2 }));
      const text = await metrics.scrape();
      const labels = samples(text)
        .filter((s) => s.name.startsWith('credport_verifications') || s.name.startsWith('credport_sync_records'))
        .map((s) => ({ name: s.name, ...s.labels, value: s.value }));
      expect(labels).toEqual([
        { name: 'credport_verifications_total', connector: 'other', outcome: 'ok', value: 1 },
        { name: 'credport_verifications_total', connector: 'front', outcome: 'refused', value: 1 },
        { name: 'credport_sync_records_total', connector: 'jsonl', stream: 'other', direction: 'write', value: 3 },
        { name: 'credport_sync_records_total', connector: 'front', stream: 'contacts', direction: 'read', value: 2 },
      ]);
    } finally {
      metrics.stop();
    }
  });
});
