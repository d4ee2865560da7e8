import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { type Credport, openCredport } from '../../src/open-credport.js';
import { subscribe, type TelemetryMessages } from '../../src/telemetry/channels.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

// What a sync publishes for the metrics: its run's start and end, and each page's records by
// connector and stream, where a stream is named only as a connector's manifest declares it: a JSONL
// file's name is whatever its owner typed (a customer's name, a path), so it is `other`.

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

describe('a sync on the telemetry channels', () => {
  it('announces its run and its records, with a stream no manifest declares as other', async () => {
    const folder = join(home, 'in');
    await mkdir(folder);
    await writeFile(join(folder, 'acme_customers.jsonl'), '{"id":1}\n{"id":2}\n{"id":3}\n');
    const source = await credport.configs.addSource({ name: 'S', connector: 'jsonl', path: folder, streams: ['acme_customers'] });
    const destination = await credport.configs.addDestination({ name: 'D', connector: 'jsonl', path: join(home, 'out') });
    const records: TelemetryMessages['credport:sync-records'][] = [];
    const runs: string[] = [];
    const off = [subscribe('credport:sync-records', (m) => records.push(m)), subscribe('credport:sync-run', (m) => runs.push(m.outcome))];
    try {
      await credport.syncs.run(source.id, destination.id);
    } finally {
      for (const stop of off) stop();
    }
    expect(runs).toEqual(['started', 'succeeded']);
    expect(records).toEqual([
      { connector: 'jsonl', stream: 'other', direction: 'read', count: 3 },
      { connector: 'jsonl', stream: 'other', direction: 'write', count: 3 },
    ]);
  });
});
