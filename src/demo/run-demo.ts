import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrontEmulator } from '../emulator/front-emulator.js';
import { CredportError } from '../errors.js';
import type { CredentialTile } from '../generated/credential-tile.js';
import { openCredport } from '../open-credport.js';
import { redactUri } from '../text/redact-uri.js';
import type { SyncEvent } from '../generated/sync-event.js';
import type { SyncSummary } from '../generated/sync-summary.js';

export interface DemoStep {
  step: string;
  detail: string;
}

export interface DemoResult {
  home: string;
  kept: boolean;
  emulator: string;
  tile: CredentialTile;
  refused: { code: string; exitCode: number; message: string };
  tilesListed: number;
  sync: SyncSummary;
  files: string;
}

/**
 * The whole credential path on this machine, no internet: a Front emulator on loopback, a
 * credential added, verified, sealed and listed through the same service a host calls, and a bad
 * token refused with nothing saved. Uses CREDPORT_HOME when set, else a temporary folder it removes.
 */
export async function runDemo(
  options: { env?: NodeJS.ProcessEnv; records?: number; onStep?: (step: DemoStep) => void; onSyncEvent?: (event: SyncEvent) => void } = {},
): Promise<DemoResult> {
  const env = options.env ?? process.env;
  const say = options.onStep ?? (() => undefined);
  const kept = Boolean(env.CREDPORT_HOME);
  const home = env.CREDPORT_HOME || (await mkdtemp(join(tmpdir(), 'credport-demo-')));
  const emulator = await new FrontEmulator({ records: options.records ?? 1000 }).start();
  say({ step: 'emulator', detail: `Front emulator listening on ${emulator.url}` });
  // A temporary home gets its own store, whatever CREDPORT_STORE says: the demo must not write into a real one.
  const credport = await openCredport({ home, env: { ...env, CREDPORT_STORE: kept ? env.CREDPORT_STORE : '' } });
  try {
    say({ step: 'store', detail: `store ${redactUri(credport.location.uri)}` });
    const form = credport.registry.form('front');
    const titles = Object.values(form.schema.properties as Record<string, { title: string }>).map((p) => p.title);
    say({ step: 'form', detail: `"Add New Credential" form for Front: ${titles.join(', ')}` });

    const [token] = [...emulator.tokens];
    const tile = await credport.credentials.create({
      connector: 'front',
      values: { name: 'Front (emulated)', description: 'Added by credport demo', apiKey: token! },
      baseUrl: emulator.url,
    });
    say({
      step: 'added',
      detail: `saved ${tile.id}: ${tile.status}, company ${String(tile.identity?.name)} (${String(tile.identity?.id)})`,
    });

    let refused: DemoResult['refused'] | undefined;
    try {
      await credport.credentials.create({
        connector: 'front',
        values: { name: 'Wrong token', apiKey: 'emu_not_a_valid_token' },
        baseUrl: emulator.url,
      });
    } catch (error) {
      if (!(error instanceof CredportError)) throw error;
      refused = { code: error.code, exitCode: error.exitCode, message: error.message };
      say({ step: 'refused', detail: `a wrong token was refused (exit ${error.exitCode}): ${error.message}` });
    }
    if (!refused) throw new Error('the emulator accepted a wrong token');

    const tiles = await credport.credentials.list({ connector: 'front' });
    say({ step: 'listed', detail: `${tiles.length} Front tile(s) to pick from; none holds the secret` });
    const tested = await credport.credentials.test(tile.id);
    say({ step: 'tested', detail: `re-verified ${tested.id}: ${tested.status}` });

    const source = await credport.configs.addSource({ name: 'Front (emulated)', connector: 'front', credentialId: tile.id });
    const destination = await credport.configs.addDestination({ name: 'Local files', connector: 'jsonl' });
    const files = destination.path!;
    say({
      step: 'configured',
      detail: `source ${source.id} (${source.streams.join(', ')}) -> destination ${destination.id} (JSONL in ${files})`,
    });
    const sync = await credport.syncs.run(source.id, destination.id, { ...(options.onSyncEvent ? { onEvent: options.onSyncEvent } : {}) });
    say({
      step: 'synced',
      detail:
        `synced ${sync.records} records in ${sync.pages} pages (${(sync.ms / 1000).toFixed(1)} s), every request with the ` +
        `Bearer header, to ${emulator.requests} emulator requests in all`,
    });
    const final = await credport.credentials.show(tile.id);
    return { home, kept, emulator: emulator.url, tile: final, refused, tilesListed: tiles.length, sync, files };
  } finally {
    await credport.close();
    await emulator.stop();
    if (!kept) await rm(home, { recursive: true, force: true });
  }
}
