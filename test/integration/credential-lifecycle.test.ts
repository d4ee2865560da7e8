import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FronteggEmulator } from '../../src/emulator/frontegg-emulator.js';
import { FrontlineEmulator } from '../../src/emulator/frontline-emulator.js';
import { InputError } from '../../src/errors.js';
import { openCredport, type Credport } from '../../src/open-credport.js';
import { fakeToken, removeHome, tempHome } from '../helpers/temp-home.js';
import { testStoreUri } from '../helpers/test-store.js';

let home: string;
let storeUri: string | undefined;
let credport: Credport;
beforeEach(async () => {
  home = await tempHome();
  storeUri = await testStoreUri();
  credport = await openCredport({ home, storeUri, env: { CREDPORT_HTTP_RETRIES: '0', CREDPORT_HTTP_TIMEOUT_MS: '2000' } });
});
afterEach(async () => {
  await credport.close();
  await removeHome(home);
});

describe('a token-exchange credential (Frontegg)', () => {
  it('is proved by the exchange: the tile shows the Client ID and the token expiry, never the Secret Key', async () => {
    const emulator = await new FronteggEmulator().start();
    try {
      const { clientId, secret } = emulator.credentials;
      const tile = await credport.credentials.create({
        connector: 'frontegg',
        values: { name: 'Auth', clientId, secret },
        baseUrl: emulator.url,
      });
      expect(tile).toMatchObject({ status: 'verified', identity: { clientId }, secretHint: secret.slice(-4) });
      expect(Object.keys(tile.identity!).sort()).toEqual(['clientId', 'tokenExpiresAt']);
      expect(Date.parse(String(tile.identity!.tokenExpiresAt))).toBeGreaterThan(Date.now());
      expect(JSON.stringify(tile)).not.toContain(secret);
    } finally {
      await emulator.stop();
    }
  });

  it.each([
    [{ region: 'US' }, 'https://api.us.frontegg.com'],
    [{ region: 'AU', domain: 'acme.frontegg.com' }, 'https://acme.frontegg.com'],
    [{ region: 'EU' }, undefined],
    [{}, undefined],
  ])('sends the secret to the region or domain chosen (%j)', async (fields, baseUrl) => {
    const tile = await credport.credentials.create({
      connector: 'frontegg',
      values: { name: 'Auth', clientId: 'client_0001', secret: fakeToken(), ...fields },
      verify: false,
    });
    if (baseUrl) expect(tile.baseUrl).toBe(baseUrl);
    else expect(tile).not.toHaveProperty('baseUrl');
  });
});

describe('the identity a verification request reports (Frontline)', () => {
  it('a USER key carries its user; a GENERAL key is named as one', async () => {
    const emulator = await new FrontlineEmulator().start();
    try {
      const add = (key: string) =>
        credport.credentials.create({ connector: 'frontline', values: { name: 'Frontline', apiKey: key }, baseUrl: emulator.url });
      const user = await add(emulator.keyOfType('USER'));
      expect(user.identity).toMatchObject({ keyType: 'USER', userId: 'usr_1', userEmail: 'pat@example.com' });
      expect(user.identity).toHaveProperty('accountId');
      const general = await add(emulator.keyOfType('GENERAL'));
      expect(general.identity).toMatchObject({ keyType: 'GENERAL' });
      expect(general.identity).not.toHaveProperty('userId');
    } finally {
      await emulator.stop();
    }
  });
});

describe('rotate, update, mark invalid, delete', () => {
  it('an unverified rotation drops the identity and the verification time of the old secret', async () => {
    const emulator = await new FrontlineEmulator().start();
    try {
      const tile = await credport.credentials.create({
        connector: 'frontline',
        values: { name: 'Frontline', apiKey: emulator.keyOfType('USER') },
        baseUrl: emulator.url,
      });
      expect(tile.identity).toMatchObject({ keyType: 'USER' });
      const rotated = await credport.credentials.rotate(tile.id, { secrets: { apiKey: fakeToken() }, verify: false });
      expect(rotated.status).toBe('unverified');
      expect(rotated).not.toHaveProperty('identity');
      expect(rotated).not.toHaveProperty('verifiedAt');
    } finally {
      await emulator.stop();
    }
  });

  it('refuses an update that changes nothing', async () => {
    const tile = await credport.credentials.create({ connector: 'front', values: { name: 'Support', apiKey: fakeToken() }, verify: false });
    await expect(credport.credentials.update(tile.id, {})).rejects.toThrow('nothing to update: give a name or a description');
  });

  it('marks a tile invalid when a sync finds the credential refused, and ignores a credential already gone', async () => {
    const tile = await credport.credentials.create({ connector: 'front', values: { name: 'Support', apiKey: fakeToken() }, verify: false });
    await credport.credentials.markInvalid(tile.id);
    expect(await credport.credentials.show(tile.id)).toMatchObject({ status: 'invalid', invalidReason: 'refused during a sync' });
    expect((await credport.audit.list({ credentialId: tile.id })).at(-1)).toMatchObject({
      action: 'credential.verification_failed',
      outcome: 'refused',
      detail: 'refused during a sync',
    });
    // A provider that quotes the token back: its words are kept, the token is not.
    const token = fakeToken('echoed');
    const echoed = await credport.credentials.create({ connector: 'front', values: { name: 'Echo', apiKey: token }, verify: false });
    await credport.credentials.markInvalid(echoed.id, `401: the token ${token} was revoked`);
    const reason = (await credport.credentials.show(echoed.id)).invalidReason!;
    expect(reason).toMatch(/^401: the token .+ was revoked$/);
    expect(reason).not.toContain(token);
    expect(reason).not.toContain(token.slice(-16));
    expect(JSON.stringify(await credport.audit.list({ credentialId: echoed.id }))).not.toContain(token.slice(-16));
    await expect(credport.credentials.markInvalid('cred_0000000000000000')).resolves.toBeUndefined();
  });

  it('refuses to delete a credential a source uses, naming it, unless forced', async () => {
    const tile = await credport.credentials.create({ connector: 'front', values: { name: 'Support', apiKey: fakeToken() }, verify: false });
    await credport.configs.addSource({ name: 'Front inbox', connector: 'front', credentialId: tile.id, streams: ['tags'] });
    await credport.configs.addSource({ name: 'Second inbox', connector: 'front', credentialId: tile.id, streams: ['tags'] });
    const error = await credport.credentials.delete(tile.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: 'in_use', field: 'id' });
    // Both sources, in either order, then what to do.
    expect((error as Error).message).toMatch(
      new RegExp(
        `^credential ${tile.id} is used by source "(Front|Second) inbox" \\(src_\\w+\\), source "(Front|Second) inbox" \\(src_\\w+\\): delete those first, or force it$`,
      ),
    );
    expect((error as Error).message).toContain('"Front inbox"');
    expect((error as Error).message).toContain('"Second inbox"');
    expect(await credport.credentials.delete(tile.id, { force: true })).toEqual({ id: tile.id, deleted: true });
    const unused = await credport.credentials.create({
      connector: 'front',
      values: { name: 'Unused', apiKey: fakeToken() },
      verify: false,
    });
    await credport.credentials.delete(unused.id);
    expect((await credport.audit.list({ credentialId: tile.id })).at(-1)).toMatchObject({ action: 'credential.deleted', detail: 'forced' });
    expect((await credport.audit.list({ credentialId: unused.id })).at(-1)).not.toHaveProperty('detail');
  });

  it('trims a new name and description, and the trail says which changed', async () => {
    const tile = await credport.credentials.create({ connector: 'front', values: { name: 'Support', apiKey: fakeToken() }, verify: false });
    expect(await credport.credentials.update(tile.id, { description: '  the team inbox  ' })).toMatchObject({
      name: 'Support',
      description: 'the team inbox',
    });
    await credport.credentials.update(tile.id, { name: 'Support EU', description: 'EU inbox' });
    const details = (await credport.audit.list({ credentialId: tile.id }))
      .filter((e) => e.action === 'credential.renamed')
      .map((e) => e.detail);
    expect(details.sort()).toEqual(['description changed', 'name and description changed']); // two events of one millisecond have no order
  });
});
