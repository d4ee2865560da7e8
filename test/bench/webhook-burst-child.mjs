// One side of the webhook bench, in its own process so only its memory counts: opens credport on a
// fresh SQLite store, registers one endpoint on the bench's loopback receiver, writes a burst of
// events to the outbox, and delivers them all with deliverWebhooksNow(). Prints one JSON line:
// the RSS after open (idle), the peak sampled every 50 ms during the burst, and the times.
// usage: node webhook-burst-child.mjs <home> <receiver origin> <events>
import { performance } from 'node:perf_hooks';
import { withAccess } from '../../dist/access/access.js';
import { openCredport } from '../../dist/open-credport.js';

const [home, origin, count] = process.argv.slice(2);
const events = Number(count);
const credport = await openCredport({ home, allowedOrigins: [`webhooks=${origin}`], env: {} });
await withAccess({ workspace: 'bench', role: 'admin' }, () =>
  credport.webhooks.create({ url: `${origin}/in`, events: ['credential.created'] }),
);
globalThis.gc?.();
const idleRss = process.memoryUsage().rss;
let peakRss = idleRss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

const started = performance.now();
for (let n = 0; n < events; n++)
  await credport.outbox.publish('bench', 'credential.created', { workspace: 'bench', credentialId: `cred_${n}`, n });
const written = performance.now();
await credport.deliverWebhooksNow();
const delivered = performance.now();
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
await credport.close();
console.log(JSON.stringify({ idleRss, peakRss, writeMs: written - started, deliverMs: delivered - written }));
