import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InputError } from '../../src/errors.js';
import { openCredport, type Credport } from '../../src/open-credport.js';
import { createServer } from '../../src/server/create-server.js';
import { LoginSessions } from '../../src/server/login-sessions.js';
import { escapeSegment } from '../../src/text/json-pointer.js';
import { runCli } from '../helpers/run-cli.js';
import { fakeToken, removeHome, tempHome } from '../helpers/temp-home.js';

/**
 * A bad request body is refused with the same field and the same words whoever sends it: the
 * library (a service method), the CLI (which calls the same method) and the API (whose routes
 * validate with the same compiled schema). The API names the field as a JSON pointer; the
 * services name a member of the body by its name, which is that pointer's one segment.
 */
const API_TOKEN = 'test-api-token-0123456789abcdef';

let home: string;
let credport: Credport;
let url: string;
let close: () => Promise<void>;
let folder: string;
let credentialId: string;

beforeAll(async () => {
  home = await tempHome();
  credport = await openCredport({ home, env: { CREDPORT_HTTP_RETRIES: '0' } });
  const server = await createServer({ credport, apiToken: API_TOKEN, sessions: new LoginSessions() });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
  close = async () => {
    await server.jobs.stopAll();
    await server.app.close();
  };
  folder = join(home, 'in');
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'contacts.jsonl'), '{"id":1}\n');
  await writeFile(join(home, 'map.json'), '{"contacts": {"/name": "title"}}');
  await writeFile(join(home, 'proto-map.json'), '{"contacts": {"/name": "/a/__proto__"}}');
  credentialId = (await credport.credentials.create({ connector: 'front', values: { name: 'Front', apiKey: fakeToken() }, verify: false }))
    .id;
});
afterAll(async () => {
  await close();
  await credport.close();
  await removeHome(home);
});

interface Case {
  what: string;
  /** The API route and the body it is sent; the library gets the same body. */
  path: '/sources' | '/destinations' | '/tokens';
  body: () => Record<string, unknown>;
  /** The CLI command that makes the same body. */
  cli: () => string[];
  /** The field the services name (the API: as a pointer) and the words every caller is told. */
  field: string;
  message: string;
}

const source = () => ({ name: 'S', connector: 'jsonl', path: folder });
const destination = () => ({ name: 'D', connector: 'front', credentialId });
const cliSource = () => ['sources', 'add', 'jsonl', '--name', 'S', '--path', folder];
const cliDestination = () => ['destinations', 'add', 'front', '--name', 'D', '--credential', credentialId];
const TEXT =
  'must not contain control characters, line breaks or text-direction overrides, nor invisible characters such as zero-width spaces';

const cases: Case[] = [
  {
    what: 'an escape in a source name',
    path: '/sources',
    body: () => ({ ...source(), name: 'a\u001b]0;x\u0007' }),
    cli: () => ['sources', 'add', 'jsonl', '--name', 'a\u001b]0;x\u0007', '--path', folder],
    field: 'name',
    message: `name ${TEXT} (found U+001B)`,
  },
  {
    what: 'a zero-width space in a path',
    path: '/sources',
    body: () => ({ ...source(), path: `${folder}\u200b` }),
    cli: () => ['sources', 'add', 'jsonl', '--name', 'S', '--path', `${folder}\u200b`],
    field: 'path',
    message: `path ${TEXT} (found U+200B)`,
  },
  {
    what: 'a stream named twice',
    path: '/sources',
    body: () => ({ ...source(), streams: ['contacts', 'contacts'] }),
    cli: () => [...cliSource(), '--streams', 'contacts,contacts'],
    field: 'streams',
    message: 'stream "contacts" is named more than once in streams; name each stream once',
  },
  {
    what: 'a stream named like a prototype slot',
    path: '/sources',
    body: () => ({ ...source(), streams: ['constructor'] }),
    cli: () => [...cliSource(), '--streams', 'constructor'],
    field: '/streams/0',
    message: "/streams/0 must not be __proto__, constructor or prototype (they name members of every object's prototype)",
  },
  {
    what: 'a concurrency of 0',
    path: '/sources',
    body: () => ({ ...source(), concurrency: 0 }),
    cli: () => [...cliSource(), '--concurrency', '0'],
    field: 'concurrency',
    message: 'concurrency must be a whole number from 1 to 32',
  },
  {
    what: 'an operations key "__proto__"',
    path: '/destinations',
    body: () => ({ ...destination(), operations: JSON.parse('{"__proto__": "contacts.create"}') }),
    cli: () => [...cliDestination(), '--operation', '__proto__=contacts.create'],
    field: '/operations/__proto__',
    message: "/operations/__proto__ must not be __proto__, constructor or prototype (they name members of every object's prototype)",
  },
  {
    what: 'an operations key with a bidi override',
    path: '/destinations',
    body: () => ({ ...destination(), operations: { 'con\u202etacts': 'contacts.create' } }),
    cli: () => [...cliDestination(), '--operation', 'con\u202etacts=contacts.create'],
    field: 'operations',
    message: `operations keys ${TEXT} (found U+202E)`,
  },
  {
    what: 'a mapping entry that is no JSON pointer',
    path: '/destinations',
    body: () => ({ ...destination(), operations: { contacts: 'contacts.create' }, mapping: { contacts: { '/name': 'title' } } }),
    cli: () => [...cliDestination(), '--operation', 'contacts=contacts.create', '--map', join(home, 'map.json')],
    field: '/mapping/contacts/~1name',
    message:
      '/mapping/contacts/~1name must be a JSON pointer (/field/sub, with ~0 for "~" and ~1 for "/") without a __proto__, constructor or prototype segment',
  },
  {
    what: 'a mapping entry with a prototype segment',
    path: '/destinations',
    body: () => ({ ...destination(), operations: { contacts: 'contacts.create' }, mapping: { contacts: { '/name': '/a/__proto__' } } }),
    cli: () => [...cliDestination(), '--operation', 'contacts=contacts.create', '--map', join(home, 'proto-map.json')],
    field: '/mapping/contacts/~1name',
    message:
      '/mapping/contacts/~1name must be a JSON pointer (/field/sub, with ~0 for "~" and ~1 for "/") without a __proto__, constructor or prototype segment (found the segment "__proto__")',
  },
  {
    what: 'a token name with a line break',
    path: '/tokens',
    body: () => ({ name: 'ci\nbot', role: 'viewer' }),
    cli: () => ['tokens', 'create', '--name', 'ci\nbot', '--role', 'viewer'],
    field: 'name',
    message: `name ${TEXT} (found U+000A)`,
  },
  {
    what: 'a token name too long',
    path: '/tokens',
    body: () => ({ name: 'x'.repeat(101), role: 'viewer' }),
    cli: () => ['tokens', 'create', '--name', 'x'.repeat(101), '--role', 'viewer'],
    field: 'name',
    message: 'name must be 1-100 characters without control characters',
  },
];

function library(path: Case['path'], body: Record<string, unknown>): Promise<unknown> {
  if (path === '/sources') return credport.configs.addSource(body as never);
  if (path === '/destinations') return credport.configs.addDestination(body as never);
  return credport.tokens.create(body as never);
}

async function api(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/api/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The API's field for a field the services name: a member's name becomes its pointer. */
const pointerOf = (field: string) => (field.startsWith('/') ? field : `/${escapeSegment(field)}`);

describe('the same bad request gets the same field and words from the library, the CLI and the API', () => {
  it.each(cases.map((c) => [c.what, c] as const))('%s', async (_what, c) => {
    const refused = await library(c.path, c.body()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InputError);
    expect(refused).toMatchObject({ field: c.field, message: c.message, exitCode: 2 });

    const cli = await runCli([...c.cli(), '--json'], { env: { CREDPORT_HOME: home } });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toBe(`credport: ${c.message}\n`);
    expect(JSON.parse(cli.stdout).error).toMatchObject({ code: 'invalid_input', field: c.field });

    const answer = await api(c.path, c.body());
    expect([answer.status, answer.body.code, answer.body.field, answer.body.detail]).toEqual([
      400,
      'invalid_input',
      pointerOf(c.field),
      c.message,
    ]);
  });

  it('saved nothing for any of them', async () => {
    expect([await credport.configs.listSources(), await credport.configs.listDestinations(), await credport.tokens.list()]).toEqual([
      [],
      [],
      [],
    ]);
  });
});
