import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { holdsSecret, refuseSecretShapeInPublicFields, refuseSecretsInPublicFields } from '../../src/credentials/public-fields-guard.js';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';
import { writeConnector } from '../helpers/connector-fixtures.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

let extras: string;
let registry: ConnectorRegistry;

/** A host connector with a short-secret schema, a public field besides name and description, and a shape of its own. */
const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://example.com/acme-guard.schema.json',
  type: 'object',
  properties: {
    name: { $ref: 'https://credport.dev/schemas/credential-fields.schema.json#/definitions/name' },
    description: { $ref: 'https://credport.dev/schemas/credential-fields.schema.json#/definitions/description' },
    account: { title: 'Account', type: 'string' },
    token: { title: 'Token', type: 'string', writeOnly: true, minLength: 1 },
  },
  required: ['name', 'token'],
  additionalProperties: false,
};

beforeAll(async () => {
  extras = await tempHome();
  await writeConnector(
    extras,
    'acme',
    (m) => ((m.credential as Record<string, unknown>).secretShape = { pattern: 'acme_live_[0-9a-f]{8}', label: 'an Acme live key' }),
    schema,
  );
  registry = await ConnectorRegistry.load({ extraConnectorDirs: [extras] });
});
afterAll(() => removeHome(extras));

describe('when a public field holds the secret', () => {
  it('a secret shorter than 8 characters only as the whole field: "test" may appear in a description', () => {
    expect(holdsSecret('test account for staging', 'test')).toBe(false);
    expect(holdsSecret(' test ', 'test')).toBe(true);
  });

  it('a secret of 8 to 15 characters anywhere in the field, as typed', () => {
    expect(holdsSecret('key short-tok1 here', 'short-tok1')).toBe(true);
    expect(holdsSecret('key short-to here', 'short-tok1')).toBe(false);
    expect(holdsSecret('key SHORT-TOK1 here', 'short-tok1')).toBe(false);
    expect(holdsSecret('key 8chars!! here', '8chars!!')).toBe(true); // 8 is no longer short
  });

  it('a longer secret: any 16 consecutive characters of it, wherever they are (a partial paste)', () => {
    const secret = 'k3y_0123456789abcdefghijklmnopqrstuvwxyz';
    expect(holdsSecret(`half: ${secret.slice(10, 26)} ...`, secret)).toBe(true);
    expect(holdsSecret(`hint: ${secret.slice(10, 25)} ...`, secret)).toBe(false);
    expect(holdsSecret(secret.slice(0, 15), secret)).toBe(false);
  });

  it("a longer secret's first and last 16 characters count as much as any in the middle", () => {
    const secret = 'k3y_0123456789abcdefghij'; // 24 characters: 9 stretches of 16
    expect(holdsSecret(`tail ${secret.slice(-16)}`, secret)).toBe(true);
    expect(holdsSecret(`${secret.slice(0, 16)} head`, secret)).toBe(true);
    expect(holdsSecret(secret.slice(-16), secret)).toBe(true); // the field is exactly the stretch
  });
});

describe('the guard over a connector', () => {
  it('checks every field that is not writeOnly, and names it', () => {
    const acme = registry.get('acme');
    expect(() =>
      refuseSecretsInPublicFields(acme, { name: 'n', account: 'acct-secret-value-1', token: 'secret-value' }, { token: 'secret-value' }),
    ).toThrow(
      expect.objectContaining({
        field: 'account',
        message:
          'Account (account) contains the Token (or part of it): public fields are stored and shown in the clear, so a secret must not go there',
      }),
    );
    expect(() =>
      refuseSecretsInPublicFields(acme, { name: 'n', account: 'acct', token: 'secret-value' }, { token: 'secret-value' }),
    ).not.toThrow();
  });

  it('looks only for the secrets of writeOnly fields given as text: a public field passed with them is no secret, an empty or odd value none', () => {
    const acme = registry.get('acme');
    const values = { name: 'the production account', account: 'acct-1', count: 42, token: 'secret-value' };
    // Callers may pass every value as "secrets": the name must not be found in the name.
    expect(() => refuseSecretsInPublicFields(acme, values, values)).not.toThrow();
    expect(() => refuseSecretsInPublicFields(acme, { name: 'n', description: '' }, { token: '' })).not.toThrow();
    expect(() => refuseSecretsInPublicFields(acme, { name: 'n', note: 1234567 }, { token: 1234567 })).not.toThrow();
    expect(() => refuseSecretsInPublicFields(acme, { name: 'n', count: 7 }, { token: 'short' })).not.toThrow();
  });

  it('names a field without a title by its key, and the base URL as such, never quoting the value', async () => {
    const acme = registry.get('acme');
    const secret = 'secret-value';
    expect(() => refuseSecretsInPublicFields(acme, { extra: `x ${secret}` }, { token: secret })).toThrow(
      expect.objectContaining({
        field: 'extra',
        message:
          '"extra" contains the Token (or part of it): public fields are stored and shown in the clear, so a secret must not go there',
      }),
    );
    expect(() => refuseSecretsInPublicFields(acme, { baseUrl: `https://${secret}.example` }, { token: secret })).toThrow(
      expect.objectContaining({ field: 'baseUrl', message: expect.stringMatching(/^base URL \(baseUrl\) contains the Token /) }),
    );
    // A secret field without a title is called a secret, not by its key.
    const bare = await tempHome();
    const untitled = {
      ...schema,
      $id: 'https://example.com/bare.schema.json',
      properties: { ...schema.properties, token: { type: 'string', writeOnly: true } },
    };
    await writeConnector(bare, 'bare', () => undefined, untitled);
    const withBare = await ConnectorRegistry.load({ extraConnectorDirs: [bare] });
    expect(() => refuseSecretsInPublicFields(withBare.get('bare'), { account: secret }, { token: secret })).toThrow(
      'Account (account) contains the secret (or part of it)',
    );
    await removeHome(bare);
  });

  it("refuses the manifest's secret shape in any public field, and only where the manifest gives one", () => {
    expect(() => refuseSecretShapeInPublicFields(registry.get('acme'), { name: 'n', account: 'was acme_live_0123abcd' })).toThrow(
      expect.objectContaining({
        field: 'account',
        message: expect.stringContaining('Account (account) contains text shaped like an Acme live key'),
      }),
    );
    expect(() => refuseSecretShapeInPublicFields(registry.get('frontline'), { name: 'eyJa.b.c' })).not.toThrow();
    expect(registry.get('frontegg').secretShape).toBeUndefined();
    expect(registry.get('front').secretShape?.label).toBe('a Front API token (a JWT)');
  });

  it('refuses at load a manifest whose shape is not a valid regular expression', async () => {
    const bad = await tempHome();
    await writeConnector(bad, 'broken', (m) => ((m.credential as Record<string, unknown>).secretShape = { pattern: 'eyJ[', label: 'x' }));
    await expect(ConnectorRegistry.load({ extraConnectorDirs: [bad] })).rejects.toThrow('/credential/secretShape/pattern');
    await removeHome(bad);
  });
});
