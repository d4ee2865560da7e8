import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../src/errors.js';
import { describeRequestError, fieldName } from '../../src/registry/describe-request-error.js';
import { checkRequest, compileRouteSchema, requestAjv, SCHEMA_BASE } from '../../src/registry/request-schemas.js';
import { TEXT_MESSAGES } from '../../src/text/text-rule.js';

/** ajv's refusal of `body` by one of schemas/, worded for the API and the services alike. */
function refusal(schema: string, body: unknown, part?: string) {
  const validate = requestAjv().getSchema(`${SCHEMA_BASE}${schema}.schema.json`)!;
  expect(validate(body)).toBe(false);
  return describeRequestError(validate.errors, part);
}

const PROTO = "must not be __proto__, constructor or prototype (they name members of every object's prototype)";
const POINTER = 'must be a JSON pointer (/field/sub, with ~0 for "~" and ~1 for "/") without a __proto__, constructor or prototype segment';

describe('one wording of a request schema refusal', () => {
  it.each([
    [
      'a missing member as the field, "<name> is required"',
      'credential-create-request',
      { values: {} },
      '/connector',
      'connector is required',
    ],
    [
      'an unknown field said of the body by its x-input-name, with the fields allowed',
      'credential-update-request',
      { colour: 'red' },
      '/colour',
      'update input has an unknown field "colour" (allowed: name, description)',
    ],
    [
      'an unknown field that is not printable: short, printable, the body as the field',
      'credential-update-request',
      { name: 'x', ['c\u0000'.repeat(30)]: 1 },
      '/',
      'update input has an unknown field "c?c?c?c?c?c?c?c?c?c?c?c?c?c?c?c?c?c?c?c?..." (allowed: name, description)',
    ],
    ['the body that is no object as "must be an object"', 'credential-create-request', null, '/', 'create input must be an object'],
    [
      "a member's type in the schema's x-message",
      'credential-create-request',
      { connector: 'front', values: [] },
      '/values',
      'values must be an object of form fields',
    ],
    [
      'a type without words of its own in plain words',
      'destination-create-request',
      { name: 'D', connector: 'front', operations: { tags: 5 } },
      '/operations/tags',
      '/operations/tags must be a string',
    ],
    [
      "an empty update in the schema's own sentence (x-min-properties-message)",
      'credential-update-request',
      {},
      '/',
      'nothing to update: give a name or a description',
    ],
    [
      "an item named twice in the schema's own sentence, naming the item (x-unique-items-message)",
      'source-create-request',
      { name: 'S', connector: 'jsonl', streams: ['a', 'tags', 'tags'] },
      '/streams',
      'stream "tags" is named more than once in streams; name each stream once',
    ],
    [
      'a printable-text refusal by its x-pattern-message and the code point found, never the character',
      'source-create-request',
      { name: 'a\u0007', connector: 'jsonl' },
      '/name',
      `name ${TEXT_MESSAGES.singleLine} (found U+0007)`,
    ],
    [
      'a map key the text rule refuses as "keys" of its map, by code point',
      'destination-create-request',
      { name: 'D', connector: 'front', operations: { 'a\u202eb': 'x' } },
      '/operations',
      `operations keys ${TEXT_MESSAGES.singleLine} (found U+202E)`,
    ],
    [
      'a printable map key refused by its own pointer',
      'destination-create-request',
      { name: 'D', connector: 'front', params: { constructor: 'x' } },
      '/params/constructor',
      `/params/constructor ${PROTO}`,
    ],
    [
      'an array item by its index',
      'source-create-request',
      { name: 'S', connector: 'jsonl', streams: ['a', '__proto__'] },
      '/streams/1',
      `/streams/1 ${PROTO}`,
    ],
    [
      'a mapping key with a prototype segment, naming the segment',
      'destination-create-request',
      { name: 'D', connector: 'f', mapping: { tags: { '/a/constructor/b': '/n' } } },
      '/mapping/tags/~1a~1constructor~1b',
      `/mapping/tags/~1a~1constructor~1b ${POINTER} (found the segment "constructor")`,
    ],
    [
      'a mapping value with a prototype segment, naming the segment',
      'destination-create-request',
      { name: 'D', connector: 'f', mapping: { tags: { '/n': '/x/__proto__' } } },
      '/mapping/tags/~1n',
      `/mapping/tags/~1n ${POINTER} (found the segment "__proto__")`,
    ],
    [
      'an allowed value by the values allowed',
      'access-token-create-request',
      { name: 'ci', role: 'owner' },
      '/role',
      'role must be one of viewer, editor, admin',
    ],
    [
      "a value's x-message over ajv's words, whichever of its checks refused it",
      'access-token-create-request',
      { name: 7, role: 'viewer' },
      '/name',
      'name must be 1-100 characters without control characters',
    ],
    [
      "a concurrency out of range in the words of the sync's own check",
      'source-create-request',
      { name: 'S', connector: 'jsonl', concurrency: 33 },
      '/concurrency',
      'concurrency must be a whole number from 1 to 32',
    ],
  ])('names %s', (_what, schema, body, field, detail) => {
    expect(refusal(schema, body)).toEqual({ field, detail });
  });

  it('points into a part of the request other than the body by that part: /query/<name>, /path/<name>', () => {
    expect(refusal('source-create-request', { name: 1, connector: 'jsonl' }, 'querystring')).toEqual({
      field: '/query/name',
      detail: 'name must be a string',
    });
    expect(refusal('source-create-request', { name: 'S', connector: 'jsonl', color: 'red' }, 'params')).toEqual({
      field: '/path/color',
      detail: 'the path has an unknown field "color" (allowed: name, connector, credentialId, path, streams, concurrency)',
    });
  });

  it('words the same refusal of a sync the same as its service does', () => {
    expect(refusal('sync-start-request', { source: 's', destination: 'd', streams: ['tags', 'tags'] })).toEqual({
      field: '/streams',
      detail: 'stream "tags" is named more than once in streams; name each stream once',
    });
  });
});

describe('the service boundary', () => {
  it('throws the same words as an InputError, a member of the body named by its name, anything deeper by its pointer', () => {
    expect(() => checkRequest('source-create-request', { name: 'a\u0007', connector: 'jsonl' })).toThrow(
      new InputError(`name ${TEXT_MESSAGES.singleLine} (found U+0007)`, { field: 'name' }),
    );
    expect(() => checkRequest('source-create-request', { name: 'S', connector: 'jsonl', streams: ['constructor'] })).toThrow(
      expect.objectContaining({ field: '/streams/0' }),
    );
    const body = { name: 'S', connector: 'jsonl', streams: ['tags'] };
    expect(checkRequest('source-create-request', body)).toBe(body);
  });

  it.each([
    ['/name', 'name'],
    ['/a~1b', 'a/b'],
    ['/~1x', '/~1x'],
    ['/streams/1', '/streams/1'],
    ['/', '/'],
  ])('names the pointer %j as %j', (pointer, field) => {
    expect(fieldName(pointer)).toBe(field);
  });

  it('compiles each schema once: the route and the service run the same function', () => {
    expect(requestAjv()).toBe(requestAjv());
    const service = requestAjv().getSchema(`${SCHEMA_BASE}source-create-request.schema.json`);
    expect(compileRouteSchema({ $ref: `${SCHEMA_BASE}source-create-request.schema.json#` })).toBe(
      requestAjv().getSchema(`${SCHEMA_BASE}source-create-request.schema.json#`),
    );
    expect(requestAjv().getSchema(`${SCHEMA_BASE}source-create-request.schema.json#`)).toBe(service);
  });
});
