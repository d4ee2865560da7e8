import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ApiUnderTest, callApi, startApi } from '../helpers/api-server.js';

/**
 * Every end user of a host now reads the Add New Credential overlay, so its text is for people:
 * where to find the key in the provider's app and what it is for. Request paths, JSON, pointers,
 * regular expressions and code names belong in docs/connectors.md. This walks every built-in
 * connector's form as the API serves it (GET /connectors/{id}/form) and the connector list's
 * descriptions (shown before the form), and fails on any of these shapes in text a person reads.
 */
const DEVELOPER_TEXT: [string, RegExp][] = [
  ['a backtick (Markdown code)', /`/],
  ['an HTTP request (GET /me)', /\b(GET|POST|PUT|PATCH|DELETE|HEAD)\s+\//],
  ['a path or JSON pointer (/data/user)', /(^|[\s("'])\/[A-Za-z_]/],
  ['JSON or a template ({"errors": ...}, {clientId})', /[{}]/],
  ['regular-expression syntax (^, $, \\d, [A-Za-z])', /\^|\$(\s|$)|\\[dswpxu]|\[[^\]]*\w-\w[^\]]*\]/],
  ['an underscore-prefixed parameter (_limit)', /(^|[\s("'])_\w/],
  ['a code name in camelCase or snake_case (apiKey, page_token)', /\b[a-z]+[A-Z]\w*\b|\b[a-z]+_[a-z]\w*\b/],
  ['a header or placeholder (Authorization: Bearer <token>)', /Authorization:|<[a-z]+>/i],
];

/** Keys whose string values a form renderer shows: JSON Schema's and react-jsonschema-form's uiSchema's. */
const SHOWN_SCHEMA_KEYS = new Set(['title', 'description', 'x-pattern-message', 'examples']);
const SHOWN_UI_KEYS = new Set(['ui:title', 'ui:description', 'ui:help', 'ui:placeholder', 'ui:enumNames']);

/** Every shown string under `node`, with where it is (`schema/properties/apiKey/description`). */
function shownText(node: unknown, keys: Set<string>, where: string, out: [string, string][] = []): [string, string][] {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) shownText(item, keys, `${where}/${i}`, out);
  } else if (node && typeof node === 'object')
    for (const [key, value] of Object.entries(node)) {
      const at = `${where}/${key}`;
      if (keys.has(key)) for (const text of [value].flat()) if (typeof text === 'string') out.push([at, text]);
      shownText(value, keys, at, out);
    }
  return out;
}

/** What is wrong where: one line per shape found, readable in a failure. */
function developerText(texts: [string, string][]): { where: string; what: string; text: string }[] {
  return texts.flatMap(([where, text]) =>
    DEVELOPER_TEXT.filter(([, pattern]) => pattern.test(text)).map(([what]) => ({ where, what, text })),
  );
}

let api: ApiUnderTest;
let connectors: { id: string; title: string; description?: string }[];

beforeAll(async () => {
  api = await startApi();
  connectors = (await callApi(api.url, 'GET', '/api/v1/connectors')).body as typeof connectors;
});
afterAll(async () => {
  await api?.close();
});

describe('the text of every built-in connector form is written for people', () => {
  it('walks the three built-in connectors', () => {
    expect(connectors.map((c) => c.id).sort()).toEqual(['front', 'frontegg', 'frontline']);
  });

  it.each(['front', 'frontegg', 'frontline'])('%s: no developer text in its labels, help, placeholders or messages', async (id) => {
    const answer = await callApi(api.url, 'GET', `/api/v1/connectors/${id}/form`);
    expect(answer.status).toBe(200);
    const form = answer.body as { title: string; form: { schema: unknown; uiSchema: unknown } };
    const texts: [string, string][] = [
      ['title', form.title],
      ...shownText(form.form.schema, SHOWN_SCHEMA_KEYS, 'schema'),
      ...shownText(form.form.uiSchema, SHOWN_UI_KEYS, 'uiSchema'),
    ];
    const summary = connectors.find((c) => c.id === id);
    if (summary?.description) texts.push(['connector description', summary.description]);
    // The walk reaches the secret's help: a test that read nothing would pass on anything.
    expect(texts.some(([where]) => where.startsWith('uiSchema/') && where.endsWith('/ui:help'))).toBe(true);
    expect(developerText(texts)).toEqual([]);
  });

  it('each pattern catches the text it is named after (the old Front and Frontegg help)', () => {
    const old: [string, string][] = [
      ['a', 'A Front API token. Front sends it as `Authorization: Bearer <token>`.'],
      ['b', 'It is verified with GET /me, then encrypted.'],
      ['c', 'the users stream (_limit up to 200, records in items) and the error shape ({"errors": [...]})'],
      ['d', 'the user from /data/user'],
      ['e', 'must match ^[A-Za-z0-9_-]+$'],
      ['f', 'the apiKey field'],
    ];
    const found = developerText(old).map(({ what }) => what);
    for (const [what] of DEVELOPER_TEXT) expect(found).toContain(what);
  });
});
