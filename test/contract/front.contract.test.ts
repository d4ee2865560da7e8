// The Front connector against Front's official OpenAPI description (front-api-specs, core-api.json)
// served by Prism: a contract nobody here wrote. Prism answers with the document's own examples,
// whose `_pagination.next` sits on https://yourCompany.api.frontapp.com and whose page token never
// advances; it logs whether each request passed the document's rules.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { type PrismMock, prismRequests, requestViolations, startPrism } from '../helpers/prism-mock.js';
import { RecordingProxy } from '../helpers/recording-proxy.js';
import { type CliResult, runCli } from '../helpers/run-cli.js';
import { fakeToken, removeHome, tempHome } from '../helpers/temp-home.js';

const SPEC = '../shared/specs/front-core-api.json';
const COMPANY_HOST = 'https://yourcompany.api.frontapp.com'; // yourCompany, as URL parsing lowercases it

let prism: PrismMock;
/**
 * The credential's origin is a recording hop in front of Prism (Prism's log has no query strings)
 * that can point at another upstream: the incremental test's first run reads the emulator, which
 * carries `updated_at` on contacts (Front's documented contact has none).
 */
let hop: RecordingProxy;
let upstream: string;
let home: string;
let env: NodeJS.ProcessEnv;
const token = fakeToken('front');
let credential: string;
let added: CliResult;

const cli = (args: string[], input = ''): Promise<CliResult> => runCli(args, { env, input });
const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event?: string; [k: string]: unknown });
const lines = async (path: string) => (await readFile(path, 'utf8')).trim().split('\n').filter(Boolean);

async function sourceAndDestination(streams: string, label = streams): Promise<{ source: string; destination: string; path: string }> {
  const source = await cli([
    'sources',
    'add',
    'front',
    '--name',
    `Front ${label}`,
    '--credential',
    credential,
    '--streams',
    streams,
    '--json',
  ]);
  expect(source.code).toBe(0);
  const path = join(home, `out-${label}`);
  const destination = await cli(['destinations', 'add', 'jsonl', '--name', `Files ${label}`, '--path', path, '--json']);
  expect(destination.code).toBe(0);
  return { source: JSON.parse(source.stdout).id, destination: JSON.parse(destination.stdout).id, path };
}

beforeAll(async () => {
  prism = await startPrism(SPEC);
  upstream = prism.url;
  hop = await RecordingProxy.start(() => upstream);
  home = await tempHome();
  env = { CREDPORT_HOME: home };
  added = await cli(['credentials', 'add', 'front', '--name', 'Front via Prism', '--base-url', hop.url, '--secret-stdin', '--json'], token);
  if (added.code === 0) credential = JSON.parse(added.stdout).id;
}, 90_000);

afterAll(async () => {
  await hop?.stop();
  await prism?.stop();
  if (home) await removeHome(home);
});

describe("Front's official OpenAPI description, served by Prism", () => {
  it('verifies a credential with GET /me, as the document describes it (bearer security, identity from the example)', () => {
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({
      status: 'verified',
      identity: { id: 'cmp_k30', name: 'Dunder Mifflin Paper Company, Inc.' },
    });
    expect(prismRequests(prism.log()).map((r) => r.request)).toEqual(['get /me']);
    expect(requestViolations(prism.log())).toEqual([]);
  });

  it.each(['inboxes', 'teammates', 'tags'])('syncs %s (one page in the examples) to the end', async (stream) => {
    const { source, destination, path } = await sourceAndDestination(stream);
    const result = await cli(['sync', source, '--to', destination, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(events(result.stdout).at(-1)).toMatchObject({ event: 'finished', summary: { records: 1 } });
    expect(await lines(join(path, `${stream}.jsonl`))).toHaveLength(1);
  });

  it.each([
    ['contacts', 'e0b5767cb0f1100743d46f67fcd765caac2ed'],
    ['conversations', 'ce787da6f075740cf187d926f5e9f612bc7875763a8dd37d5'],
    ['accounts', 'abae846b73ddd80f67fff73c491c41b8b0e74972f3a1079c3c8800416e06cf46'],
  ])(
    'syncs %s without sending the token to the company host of its next link, and stops, named, when the page token does not advance',
    async (stream, pageToken) => {
      const { source, destination, path } = await sourceAndDestination(stream);
      const before = hop.log.length;
      const result = await cli(['sync', source, '--to', destination, '--json']);
      const all = events(result.stdout);

      // Both pages' links to https://yourCompany.api.frontapp.com were replayed on the credential's own origin...
      const rewritten = { event: 'link_rewritten', stream, origin: COMPANY_HOST };
      expect(all.filter((e) => e.event === 'link_rewritten')).toEqual([rewritten, rewritten]);
      // ...so every request went to the credential's origin (the hop), each with the token, the
      // second one carrying the example's page token. A request to the company host would have
      // failed DNS (provider_unreachable) or been refused (origin_refused) instead.
      expect(hop.log.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
        `GET /${stream}?limit=100`,
        `GET /${stream}?page_token=${pageToken}`,
      ]);
      expect(hop.log.slice(before).every((r) => r.authorization === `Bearer ${token}`)).toBe(true);

      // The page token never advances: a named stop, exit 4, after the first page was written.
      const message = `Front's ${stream} pagination does not advance: it sent a next-page link to the same page (/${stream}?page_token=${pageToken})`;
      expect(result.code).toBe(4);
      expect(all.find((e) => e.event === 'failed')).toMatchObject({
        event: 'failed',
        stream,
        code: 'pagination_stuck',
        exitCode: 4,
        message: expect.stringContaining(message),
      });
      expect(result.stderr).toContain(`credport: ${message}`);
      expect(result.stderr).not.toMatch(/ENOTFOUND|origin_refused|refused to send/);
      expect(await lines(join(path, `${stream}.jsonl`))).toHaveLength(1);
      expect(result.stdout + result.stderr).not.toContain(token);
    },
  );

  it("sends an incremental contacts run a query Prism accepts: Front's q[updated_after] bracket notation", async () => {
    const { source, destination } = await sourceAndDestination('contacts', 'incremental');
    // First run against the emulator, whose contacts carry updated_at: it finishes and saves a cursor.
    const emulator = await new FrontEmulator({ tokens: [token], records: 5 }).start();
    try {
      upstream = emulator.url;
      const first = await cli(['sync', source, '--to', destination, '--json']);
      expect(first.code).toBe(0);
    } finally {
      upstream = prism.url;
      await emulator.stop();
    }
    const before = hop.log.length;
    const logBefore = prism.log().length;
    const second = await cli(['sync', source, '--to', destination, '--json']);
    const asked = new URL(hop.log[before]!.path, hop.url);
    expect(Object.fromEntries(asked.searchParams)).toEqual({
      limit: '100',
      'q[updated_after]': String(1_767_225_600 + 4),
      sort_by: 'updated_at',
      sort_order: 'asc',
    });
    const received = prismRequests(prism.log().slice(logBefore));
    expect(received[0]!.request).toBe('get /contacts');
    expect(received[0]!.lines.some((l) => l.includes('The request passed the validation rules'))).toBe(true);
    expect(second.code).toBe(4); // the same never-advancing page token as above
  });

  it('sent nothing the document refuses: every request Prism received passed its validation', () => {
    const received = prismRequests(prism.log());
    expect(received.length).toBeGreaterThanOrEqual(1 + 3 + 3 * 2 + 2);
    expect(requestViolations(prism.log())).toEqual([]);
  });
});
