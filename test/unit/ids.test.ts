import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { ID_SHAPES } from '../../src/ids.js';

const schema = (name: string) => JSON.parse(readFileSync(new URL(`../../schemas/${name}.schema.json`, import.meta.url), 'utf8'));

describe('the shape of each id', () => {
  it('is the one the schemas of what carries it say (a route refuses no id the store hands out)', () => {
    expect(schema('credential-tile').properties.id.pattern).toBe(ID_SHAPES.credential.pattern);
    expect(schema('source').properties.id.pattern).toBe(ID_SHAPES.source.pattern);
    expect(schema('destination').properties.id.pattern).toBe(ID_SHAPES.destination.pattern);
    expect(schema('sync-job').properties.id.pattern).toBe(ID_SHAPES.sync.pattern);
    expect(schema('access-token').properties.id.pattern).toBe(ID_SHAPES.token.pattern);
    expect(schema('connector-manifest').properties.id.pattern).toBe(ID_SHAPES.connector.pattern);
    expect(schema('connect-session').properties.id.pattern).toBe(ID_SHAPES['connect session'].pattern);
    expect(schema('webhook-endpoint').properties.id.pattern).toBe(ID_SHAPES['webhook endpoint'].pattern);
    expect(schema('webhook-endpoint-created').properties.id.pattern).toBe(ID_SHAPES['webhook endpoint'].pattern);
    expect(schema('connect-session-create-request').properties.credentialId.pattern).toBe(ID_SHAPES.credential.pattern);
    for (const request of ['source-create-request', 'destination-create-request'])
      expect(schema(request).properties.credentialId.pattern).toBe(ID_SHAPES.credential.pattern);
  });

  it('matches its own example', () => {
    for (const { pattern, example } of Object.values(ID_SHAPES)) expect(example).toMatch(new RegExp(pattern));
  });
});
