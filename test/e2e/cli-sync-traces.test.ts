import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { startCollector } from '../helpers/otlp-collector.js';
import { runCli } from '../helpers/run-cli.js';
import { fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';

// issue 27: `credport sync` run in its own process (no queue) exports its run's trace when
// OTEL_EXPORTER_OTLP_ENDPOINT is set, flushed before the process exits; without it, nothing is sent.

const MASTER_KEY = randomMasterKey();
const apiKey = fakeToken('cli-otlp');
let home: string;
let emulator: FrontEmulator;
let collector: Awaited<ReturnType<typeof startCollector>>;
let env: NodeJS.ProcessEnv;
let args: string[];

beforeAll(async () => {
  home = await tempHome();
  emulator = await new FrontEmulator({ tokens: [apiKey], records: 30 }).start();
  collector = await startCollector();
  env = { CREDPORT_HOME: home, CREDPORT_MASTER_KEY: MASTER_KEY };
  const credport = await openCredport({ home, masterKey: MASTER_KEY, env: {} });
  const tile = await credport.credentials.create({
    connector: 'front',
    values: { name: 'k', apiKey },
    baseUrl: emulator.url,
    verify: false,
  });
  const source = await credport.configs.addSource({ name: 's', connector: 'front', credentialId: tile.id, streams: ['tags'] });
  const destination = await credport.configs.addDestination({ name: 'd', connector: 'jsonl' });
  await credport.close();
  args = ['sync', source.id, '--to', destination.id, '--json', '--full-refresh'];
}, 30_000);

afterAll(async () => {
  await collector?.close();
  await emulator?.stop();
  await removeHome(home);
});

describe('credport sync with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('exports the run as credport-sync before it exits; without the variable, sends nothing', async () => {
    const plain = await runCli(args, { env });
    expect(plain.code).toBe(0);
    expect(collector.exports).toEqual([]);
    // A batch that would wait a minute: only the flush before exit sends it.
    const traced = await runCli(args, { env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '60000' } });
    expect(traced.code).toBe(0);
    const spans = collector.spans();
    expect(spans.map((s) => [s.service, s.name]).sort()).toEqual([
      ['credport-sync', 'GET'],
      ['credport-sync', 'credport.sync'],
      ['credport-sync', 'credport.sync.stream'],
    ]);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    const text = collector.exports.map((e) => e.body).join('\n');
    for (const secret of [apiKey, MASTER_KEY, 'Bearer', emulator.url]) expect([secret, text.includes(secret)]).toEqual([secret, false]);
  }, 30_000);
});
