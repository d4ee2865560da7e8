import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { FrontEmulator, type FrontEmulatorOptions } from '../../src/emulator/front-emulator.js';
import type { JsonBody } from '../helpers/json-body.js';
import { OwnRedis } from '../helpers/own-servers.js';
import { type CliResult, runCli } from '../helpers/run-cli.js';
import { checkEvents, fileContract } from '../helpers/sync-event-contract.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';
import { killLeftWorkers, startWorkerProcess } from '../helpers/worker-process.js';

/**
 * `credport sync --json` as a host reads it: every line of a real sync against the Front emulator
 * (with its 429s, 5xx and foreign next links, and one that the provider refuses), run here or by a
 * queue worker, checked by ajv against schemas/sync-event.schema.json.
 */
let home: string;
let front: FrontEmulator;
let trap: FrontEmulator;
let env: NodeJS.ProcessEnv;
let redis: OwnRedis | undefined;

beforeEach(async () => {
  home = await tempHome();
  // Retries on, so a 502 is met with a `retry` event rather than failing the sync.
  env = { CREDPORT_HOME: home, CREDPORT_HTTP_RETRIES: '2' };
  trap = await new FrontEmulator({ recordRequests: true }).start();
  front = await new FrontEmulator({ records: 250 }).start();
});
afterEach(async () => {
  killLeftWorkers();
  await redis?.stop();
  redis = undefined;
  await front.stop();
  await trap.stop();
  await removeHome(home);
});

const cli = (args: string[], input = ''): Promise<CliResult> => runCli(args, { env, input });

async function added(args: string[], input = ''): Promise<string> {
  const result = await cli([...args, '--json'], input);
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { id: string }).id;
}

const lines = (stdout: string): JsonBody[] =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

/** A credential on the emulator, a source of it per list of streams, and a JSONL destination, added with the CLI. */
async function setUp(...streamLists: string[]): Promise<{ sources: string[]; destination: string }> {
  const credential = await added(
    ['credentials', 'add', 'front', '--name', 'Front', '--base-url', front.url, '--secret-stdin'],
    [...front.tokens][0]!,
  );
  const sources: string[] = [];
  for (const [i, streams] of streamLists.entries())
    sources.push(await added(['sources', 'add', 'front', '--name', `S${i}`, '--credential', credential, '--streams', streams]));
  const destination = await added(['destinations', 'add', 'jsonl', '--name', 'Files', '--path', `${home}/out`]);
  return { sources, destination };
}

/** From now on the emulator answers as a busy Front does: burst 429s, 502s, next links on another origin. */
function misbehave(): void {
  Object.assign((front as unknown as { options: FrontEmulatorOptions }).options, { burstEvery: 4, failEvery: 7, nextOrigin: trap.url });
}

/** Runs a sync that finishes and one the provider refuses; checks both outputs and returns their events. */
async function finishedAndFailed(sources: string[], destination: string): Promise<unknown[]> {
  const finished = await cli(['sync', sources[0]!, '--to', destination, '--json']);
  expect(finished.code).toBe(0);
  for (const token of front.tokens) front.tokens.delete(token); // the provider revokes the token
  const failed = await cli(['sync', sources[1]!, '--to', destination, '--json']);
  expect(failed.code).toBe(3);
  const failedLines = lines(failed.stdout);
  // After the stream's last event, the CLI's usual error object (docs/cli.md): not an event.
  expect(failedLines.at(-1)).toEqual({ error: expect.objectContaining({ code: 'provider_rejected' }) });
  expect(lines(finished.stdout).at(-1).event).toBe('finished');
  expect(failedLines.at(-2)).toMatchObject({ event: 'failed', code: 'provider_rejected', exitCode: 3 });
  return [...lines(finished.stdout), ...failedLines.slice(0, -1)];
}

it('prints only events its schemas admit, every kind of them; a failure ends with its `failed` event, then the error object', async () => {
  const { sources, destination } = await setUp('contacts,tags', 'contacts');
  misbehave();
  const events = await finishedAndFailed(sources, destination);
  const contract = fileContract();
  const seen = checkEvents(contract, events);
  // Every kind the schema declares was met: a kind no real sync reaches would go unchecked.
  expect([...seen].sort()).toEqual([...contract.kinds.keys()].sort());
  expect(trap.seen).toEqual([]);
});

it('prints the same events when a queue worker runs the sync: those it publishes, and the failed one', async () => {
  // A Redis of its own, gone with the test.
  redis = await OwnRedis.start(home, { persist: false });
  env.CREDPORT_QUEUE = redis.url;
  const { sources, destination } = await setUp('contacts,tags', 'contacts');
  const worker = await startWorkerProcess(env);
  misbehave();
  const events = await finishedAndFailed(sources, destination);
  // The worker sends page and checkpoint events at most every so often (the latest of each stream): fewer, never other ones.
  const seen = checkEvents(fileContract(), events);
  for (const kind of ['started', 'stream_started', 'page', 'checkpoint', 'stream_finished', 'finished', 'failed'])
    expect(seen).toContain(kind);
  await worker.stop();
}, 60_000);
