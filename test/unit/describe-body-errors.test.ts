import { describe, expect, it } from '@jest/globals';
import type { ValidateFunction } from 'ajv';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';
import { describeBodyErrors } from '../../src/sync/writers/describe-body-errors.js';

// Front's own contacts.create request schema, compiled as a sync compiles it.
const contacts: ValidateFunction = (await ConnectorRegistry.load()).get('front').operations.get('contacts.create')!.validate;

function reasonFor(body: unknown): { reason: string; field?: string } {
  expect(contacts(body)).toBe(false);
  return describeBodyErrors(contacts.errors ?? []);
}

describe('the reason a rejected row gives', () => {
  it('names every problem of the row, and `field` stays the first one', () => {
    expect(reasonFor({ name: 42, handles: 'typed@example.com' })).toEqual({
      reason: '/name must be string; /handles must be array',
      field: '/name',
    });
  });

  it('puts unknown and missing fields first, the fix a caller makes before any other', () => {
    expect(reasonFor({ name: 42, colour: 'red' })).toEqual({
      reason: '/colour is not a field of the request body (unknown field); /handles is required; /name must be string',
      field: '/colour',
    });
  });

  it('names at most five problems, then counts the rest', () => {
    const body = { name: 1, description: 2, avatar: 3, links: 4, group_names: 5, list_names: 6, handles: 7 };
    const { reason, field } = reasonFor(body);
    expect(reason.split('; ')).toEqual([
      '/name must be string',
      '/description must be string',
      '/avatar must be string',
      '/links must be array',
      '/group_names must be array',
      'and 2 more',
    ]);
    expect(field).toBe('/name');
  });

  it('reads as before for a row with one problem', () => {
    expect(reasonFor({ name: 'No handles' })).toEqual({ reason: '/handles is required', field: '/handles' });
  });

  it('puts a missing field deep in the body before a wrong type met earlier', () => {
    expect(reasonFor({ name: 42, handles: [{ handle: 'a@example.com' }] })).toEqual({
      reason: '/handles/0/source is required; /name must be string',
      field: '/handles/0/source',
    });
  });

  it('names exactly five problems without counting more', () => {
    const { reason } = reasonFor({ name: 1, description: 2, avatar: 3, links: 4, handles: 7 });
    expect(reason.split('; ')).toHaveLength(5);
    expect(reason).not.toContain('more');
  });

  it('says the body is not valid when the schema gave no reason', () => {
    expect(describeBodyErrors([])).toEqual({ reason: 'the record is not a valid request body' });
  });
});
