// The baseline webhook delivery is measured against: the least code that signs the same bodies with
// the published standardwebhooks package and POSTs them with got, one after another, to the same
// kind of receiver. No outbox, no store, no lease, no retry. Prints one JSON line with the time.
// usage: node webhook-post-baseline.mjs <receiver origin> <events>
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import got from 'got';
import { Webhook } from 'standardwebhooks';

const [origin, count] = process.argv.slice(2);
const events = Number(count);
const webhook = new Webhook(`whsec_${randomBytes(32).toString('base64')}`);
const started = performance.now();
for (let n = 0; n < events; n++) {
  const id = `msg_${String(Date.now()).padStart(13, '0')}${String(n % 10_000).padStart(4, '0')}${randomBytes(4).toString('hex')}`;
  const date = new Date();
  const body = JSON.stringify({
    type: 'credential.created',
    timestamp: date.toISOString(),
    data: { workspace: 'bench', credentialId: `cred_${n}`, n },
  });
  const signature = webhook.sign(id, date, body);
  await got.post(`${origin}/in`, {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(date.getTime() / 1000)),
      'webhook-signature': signature,
    },
    retry: { limit: 0 },
    followRedirect: false,
  });
}
console.log(JSON.stringify({ deliverMs: performance.now() - started }));
