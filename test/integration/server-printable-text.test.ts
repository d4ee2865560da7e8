import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { withAccess } from '../../src/access/access.js';
import type { Credport } from '../../src/open-credport.js';
import { TEXT_MESSAGES } from '../../src/text/text-rule.js';
import { type ApiUnderTest, startApi } from '../helpers/api-server.js';
import { fakeToken } from '../helpers/temp-home.js';
import type { JsonBody } from '../helpers/json-body.js';

/**
 * Issue 21: a tenant's text reached the operator's terminal raw. Over loopback HTTP, as a workspace
 * token, every name, path and stream key holding a terminal escape, a C1 control, a bidi override or
 * a zero-width character is refused 400 naming the field, and nothing is saved.
 */
let api: ApiUnderTest;
let home: string;
let credport: Credport;
let url: string;
let editor: string;
let admin: string;
let credentialId: string;
let folder: string;

/** Each kind of hostile character, in a name that would otherwise be fine. */
const HOSTILE: Record<string, string> = {
  'ESC (retitles the terminal)': 'prod\u001b]0;owned\u0007',
  'C1 CSI (clears the screen)': 'prod\u009b2J',
  'bidi override (shows fake text)': 'invoice\u202Egpj.exe',
  'zero-width space (a look-alike)': 'pro\u200Bduction',
};

beforeEach(async () => {
  api = await startApi({ open: { env: { CREDPORT_HTTP_RETRIES: '0' } } });
  ({ home, credport, url } = api);
  const acme = { workspace: 'acme', role: 'admin' } as const;
  editor = (await withAccess(acme, () => credport.tokens.create({ name: 'tenant editor', role: 'editor' }))).token!;
  admin = (await withAccess(acme, () => credport.tokens.create({ name: 'tenant admin', role: 'admin' }))).token!;
  credentialId = (
    await withAccess(acme, () =>
      credport.credentials.create({ connector: 'front', values: { name: 'Front', apiKey: fakeToken() }, verify: false }),
    )
  ).id;
  // A folder the tenant may read: inside its workspace's folder.
  folder = join(home, 'workspaces', 'acme', 'in');
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'contacts.jsonl'), '{"id":1}\n');
});
afterEach(() => api.close());

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: JsonBody }> {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.json() };
}

/** What each request sends with the hostile text in one place, and the field the refusal must name. */
const attacks = (bad: string): [string, string, () => unknown, string, 'editor' | 'admin'][] => [
  ['a source name', '/sources', () => ({ name: bad, connector: 'jsonl', path: folder }), '/name', 'editor'],
  ['a JSONL path', '/sources', () => ({ name: 'S', connector: 'jsonl', path: join(folder, bad) }), '/path', 'editor'],
  ['a stream', '/sources', () => ({ name: 'S', connector: 'jsonl', path: folder, streams: [bad] }), '/streams/0', 'editor'],
  ['a destination name', '/destinations', () => ({ name: bad, connector: 'jsonl' }), '/name', 'editor'],
  ['a destination path', '/destinations', () => ({ name: 'D', connector: 'jsonl', path: join(folder, bad) }), '/path', 'editor'],
  [
    'an operations key',
    '/destinations',
    () => ({ name: 'D', connector: 'front', credentialId, operations: { [`contacts${bad}`]: 'contacts.create' } }),
    '/operations',
    'editor',
  ],
  [
    'a mapping key',
    '/destinations',
    () => ({
      name: 'D',
      connector: 'front',
      credentialId,
      operations: { contacts: 'contacts.create' },
      mapping: { [`contacts${bad}`]: { '/name': '/name' } },
    }),
    '/mapping',
    'editor',
  ],
  ['a token name', '/tokens', () => ({ name: bad, role: 'viewer' }), '/name', 'admin'],
];

describe('hostile text over HTTP, as a workspace token', () => {
  for (const [kind, bad] of Object.entries(HOSTILE)) {
    it(`refuses ${kind} in every name, path and stream key, naming the field, and saves nothing`, async () => {
      for (const [what, path, body, field, role] of attacks(bad)) {
        const answer = await call('POST', path, role === 'admin' ? admin : editor, body());
        expect([what, answer.status, answer.body.code, answer.body.field]).toEqual([what, 400, 'invalid_input', field]);
        // Refused by the request's schema, at the boundary, in the text rule's words.
        const keys = field === '/operations' || field === '/mapping' ? 'keys ' : '';
        // Said of the field as the services name it (a member by its name, deeper by its pointer), with the character's code point.
        const named = field.lastIndexOf('/') === 0 ? field.slice(1) : field;
        expect([what, answer.body.detail]).toEqual([
          what,
          expect.stringMatching(new RegExp(`^${named} ${keys}${TEXT_MESSAGES.singleLine} \\(found U\\+[0-9A-F]{4}\\)$`)),
        ]);
        // The refusal never echoes the character it refused.
        expect([what, JSON.stringify(answer.body)]).toEqual([what, expect.not.stringMatching(/[\u001b\u009b\u202e\u200b]/)]);
      }
      expect((await call('GET', '/sources', editor)).body).toEqual([]);
      expect((await call('GET', '/destinations', editor)).body).toEqual([]);
      expect((await call('GET', '/tokens', admin)).body.map((t: { name: string }) => t.name).sort()).toEqual([
        'tenant admin',
        'tenant editor',
      ]);
    });
  }

  it('refuses each in a Credential Name and Description, by the same rule, saving nothing', async () => {
    for (const bad of Object.values(HOSTILE)) {
      for (const [field, values] of [
        ['name', { name: bad }],
        ['description', { name: 'ok', description: `line one\n${bad}` }],
      ] as const) {
        const answer = await call('POST', '/credentials', editor, {
          connector: 'front',
          verify: false,
          values: { ...values, apiKey: fakeToken() },
        });
        expect([field, answer.status, answer.body.field]).toEqual([field, 400, `/values/${field}`]);
        expect(answer.body.detail).toContain(field === 'name' ? TEXT_MESSAGES.singleLine : TEXT_MESSAGES.multiLine);
      }
    }
    expect((await call('GET', '/credentials', editor)).body.map((t: { name: string }) => t.name)).toEqual(['Front']);
  });

  it('takes ordinary Unicode names: accents, CJK, emoji', async () => {
    for (const name of ['Café Zoë', '東京の連絡先', '🚀 Launch 👍🏽 🇫🇷', 'Ünïcödé — ñ']) {
      const source = await call('POST', '/sources', editor, { name, connector: 'jsonl', path: folder });
      expect([name, source.status, source.body.name]).toEqual([name, 201, name]);
      const destination = await call('POST', '/destinations', editor, { name, connector: 'jsonl' });
      expect([name, destination.status, destination.body.name]).toEqual([name, 201, name]);
      const token = await call('POST', '/tokens', admin, { name, role: 'viewer' });
      expect([name, token.status, token.body.name]).toEqual([name, 201, name]);
    }
  });
});

describe('refusals never echo the hostile text', () => {
  it.each(Object.entries(HOSTILE))(
    'an unknown field or map key holding %s is named by its map, the answer holds none of it',
    async (_what, text) => {
      const unknown = await call('POST', '/sources', editor, { name: 'Files', connector: 'jsonl', path: 'in', [text]: 'x' });
      expect(unknown.status).toBe(400);
      const key = await call('POST', '/destinations', editor, {
        name: 'Front',
        connector: 'front',
        credentialId,
        operations: { [text]: 'contacts.create' },
      });
      expect(key.status).toBe(400);
      expect(key.body.field).toBe('/operations');
      for (const answer of [unknown, key]) {
        const said = JSON.stringify(answer.body);
        expect(said).not.toContain(JSON.stringify(text).slice(1, -1));
        expect(/[\u0000-\u001f\u007f-\u009f\u200b\u202e]/.test(`${answer.body.detail}${answer.body.field}`)).toBe(false);
      }
    },
  );
});
