import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../src/errors.js';
import { describeRequestError } from '../../src/registry/describe-request-error.js';
import { checkRequest, compileRouteSchema, fieldName, requestAjv, SCHEMA_BASE } from '../../src/registry/request-schemas.js';
import { TEXT_MESSAGES } from '../../src/text/text-rule.js';

/** ajv's first refusal of `body` by one of schemas/, worded for the API and the services alike. */
function refusal(schema: string, body: unknown, part?: string) {
  const validate = requestAjv().getSchema(`${SCHEMA_BASE}${schema}.schema.json`)!;
  expect(validate(body)).toBe(false);
  return describeRequestError(validate.errors![0], part);
}

const PROTO = "must not be __proto__, constructor or prototype (they name members of every object's prototype)";

describe('one wording of a request schema refusal', () => {
  it.each([
    ['a refused pattern by its x-pattern-message, never its expression', 'source-create-request', { name: 'a\u0007', connector: 'jsonl' }, '/name', `/name ${TEXT_MESSAGES.singleLine}`],
    ['a map key the text rule refuses as "keys" of its map, never echoed', 'destination-create-request', { name: 'D', connector: 'front', operations: { 'a\u202eb': 'x' } }, '/operations', `/operations keys ${TEXT_MESSAGES.singleLine}`],
    ['a printable map key refused by its own pointer', 'destination-create-request', { name: 'D', connector: 'front', params: { constructor: 'x' } }, '/params/constructor', `/params/constructor ${PROTO}`],
    ['an array item by its index', 'source-create-request', { name: 'S', connector: 'jsonl', streams: ['a', '__proto__'] }, '/streams/1', `/streams/1 ${PROTO}`],
    ['an unknown field by its name, short and printable', 'credential-update-request', { name: 'x', ['c\u0000'.repeat(30)]: 1 }, '/', '/ unknown field "c?c?c?c?c?c?c?c?c?c?c?c?c?c?c?c?c?c?c?c?..."'],
    ['an unknown field with a plain name at its pointer', 'credential-update-request', { colour: 'red' }, '/colour', '/colour unknown field "colour"'],
    ["ajv's own words for the rest", 'source-create-request', { name: 'S', connector: 'jsonl', concurrency: 33 }, '/concurrency', '/concurrency must be <= 32'],
    ['the body itself as "/"', 'credential-create-request', { values: {} }, '/', "/ must have required property 'connector'"],
  ])('names %s', (_what, schema, body, field, detail) => {
    expect(refusal(schema, body)).toEqual({ field, detail });
  });

  it('names a part of the request other than the body by that part', () => {
    expect(refusal('source-create-request', { name: 1, connector: 'jsonl' }, 'querystring')).toEqual({ field: 'querystring/name', detail: 'querystring/name must be string' });
  });
});

describe('the service boundary', () => {
  it('throws the same words as an InputError, a member of the body named by its name, anything deeper by its pointer', () => {
    expect(() => checkRequest('source-create-request', { name: 'a\u0007', connector: 'jsonl' })).toThrow(new InputError(`/name ${TEXT_MESSAGES.singleLine}`, { field: 'name' }));
    expect(() => checkRequest('source-create-request', { name: 'S', connector: 'jsonl', streams: ['constructor'] })).toThrow(expect.objectContaining({ field: '/streams/0' }));
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
    expect(compileRouteSchema({ $ref: `${SCHEMA_BASE}source-create-request.schema.json#` })).toBe(requestAjv().getSchema(`${SCHEMA_BASE}source-create-request.schema.json#`));
    expect(requestAjv().getSchema(`${SCHEMA_BASE}source-create-request.schema.json#`)).toBe(service);
  });
});
