import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { FrontEmulator, type FrontEmulatorOptions } from '../../src/emulator/front-emulator.js';
import type { JsonBody } from '../helpers/json-body.js';
import { type CliResult, runCli } from '../helpers/run-cli.js';
import { checkEvents, fileContract } from '../helpers/sync-event-contract.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

/**
 * `credport sync --json` as a host reads it: every line of a real sync against the Front emulator
 * (with its 429s, 5xx and foreign next links, and one that the provider refuses) checked by ajv
 * against schemas/sync-event.schema.json.
 */
let home: string;
let front: FrontEmulator;
let trap: FrontEmulator;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  home = await tempHome();
  // Retries on, so a 502 is met with a `retry` event rather than failing the sync.
  env = { CREDPORT_HOME: home, CREDPORT_HTTP_RETRIES: '2' };
  trap = await new FrontEmulator({ recordRequests: true }).start();
  front = await new FrontEmulator({ records: 250 }).start();
});
afterEach(async () => {
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

it('prints only events its schemas admit, every kind of them; a failure ends with its `failed` event, then the error object', async () => {
  const credential = await added(
    ['credentials', 'add', 'front', '--name', 'Front', '--base-url', front.url, '--secret-stdin'],
    [...front.tokens][0]!,
  );
  const both = await added(['sources', 'add', 'front', '--name', 'Both', '--credential', credential, '--streams', 'contacts,tags']);
  const one = await added(['sources', 'add', 'front', '--name', 'One', '--credential', credential, '--streams', 'contacts']);
  const destination = await added(['destinations', 'add', 'jsonl', '--name', 'Files', '--path', `${home}/out`]);
  // From now on the emulator answers as a busy Front does: burst 429s, 502s, next links on another origin.
  Object.assign((front as unknown as { options: FrontEmulatorOptions }).options, { burstEvery: 4, failEvery: 7, nextOrigin: trap.url });

  const finished = await cli(['sync', both, '--to', destination, '--json']);
  expect(finished.code).toBe(0);
  for (const token of front.tokens) front.tokens.delete(token); // the provider revokes the token
  const failed = await cli(['sync', one, '--to', destination, '--json']);
  expect(failed.code).toBe(3);

  const failedLines = lines(failed.stdout);
  // After the stream's last event, the CLI's usual error object (docs/cli.md): not an event.
  expect(failedLines.at(-1)).toEqual({ error: expect.objectContaining({ code: 'provider_rejected' }) });
  const events = [...lines(finished.stdout), ...failedLines.slice(0, -1)];
  const contract = fileContract();
  const seen = checkEvents(contract, events);
  // Every kind the schema declares was met: a kind no real sync reaches would go unchecked.
  expect([...seen].sort()).toEqual([...contract.kinds.keys()].sort());
  expect(lines(finished.stdout).at(-1).event).toBe('finished');
  expect(failedLines.at(-2).event).toBe('failed');
  expect(trap.seen).toEqual([]);
});
