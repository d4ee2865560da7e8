// Webhook figures for npm run bench: a burst of events written to the outbox and delivered by
// credport (deliverWebhooksNow, SQLite store, one endpoint on a loopback receiver answering 204),
// beside a bare loop signing the same bodies with standardwebhooks and POSTing them with got.
// Both run as child processes (measure-child.ts), so the bench harness's memory does not count.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureChild } from './measure-child.js';

const CHILD = fileURLToPath(new URL('./webhook-burst-child.mjs', import.meta.url));
const BASELINE = fileURLToPath(new URL('./webhook-post-baseline.mjs', import.meta.url));

export interface WebhookFigures {
  oursEps: number;
  baseEps: number;
  /** Median of the paired rounds' ratios, credport / baseline. */
  ratio: number;
  ratios: number[];
  /** Seconds to write the burst to the outbox (not in the timed delivery). */
  writeS: number;
  idleMiB: number;
  peakMiB: number;
}

/** A receiver on loopback answering 204 to every POST, counting them. */
async function receiver() {
  let count = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      count++;
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => count,
    reset: () => (count = 0),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function webhookBench(home: string, events: number, rounds: number): Promise<WebhookFigures> {
  const hook = await receiver();
  const env = { ...process.env, CREDPORT_HOME: '' };
  const ours: { deliverMs: number; writeMs: number; idleRss: number; peakRss: number }[] = [];
  const base: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      hook.reset();
      const b = JSON.parse((await measureChild([BASELINE, hook.origin, String(events)], env, { peak: false })).stdout) as {
        deliverMs: number;
      };
      if (hook.count() !== events) throw new Error(`the baseline delivered ${hook.count()} of ${events}`);
      base.push(b.deliverMs);
      hook.reset();
      const dir = await mkdtemp(join(home, 'webhooks-'));
      const run = await measureChild([CHILD, dir, hook.origin, String(events)], { ...env, CREDPORT_HOME: dir }, { peak: false });
      if (hook.count() !== events) throw new Error(`credport delivered ${hook.count()} of ${events}`);
      ours.push(JSON.parse(run.stdout));
    }
  } finally {
    await hook.close();
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const ratios = ours.map((o, i) => base[i]! / o.deliverMs);
  const MiB = 1024 * 1024;
  return {
    oursEps: events / (median(ours.map((o) => o.deliverMs)) / 1000),
    baseEps: events / (median(base) / 1000),
    ratio: median(ratios),
    ratios,
    writeS: median(ours.map((o) => o.writeMs)) / 1000,
    idleMiB: median(ours.map((o) => o.idleRss)) / MiB,
    peakMiB: median(ours.map((o) => o.peakRss)) / MiB,
  };
}
