import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { openCredport, type Credport } from '../../src/open-credport.js';
import { FakeFront } from '../helpers/fake-front.js';
import { fakeToken, removeHome, tempHome } from '../helpers/temp-home.js';
import { testStoreUri } from '../helpers/test-store.js';

let front: FakeFront;
let home: string;
let storeUri: string | undefined;
let credport: Credport;

beforeAll(async () => (front = await FakeFront.start()));
afterAll(() => front.close());
beforeEach(async () => {
  front.tokens.clear();
  home = await tempHome();
  storeUri = await testStoreUri();
  credport = await openCredport({ home, storeUri, env: { CREDPORT_HTTP_RETRIES: '0', CREDPORT_HTTP_TIMEOUT_MS: '1000' } });
});
afterEach(async () => {
  await credport.close();
  await removeHome(home);
});

describe("rotate and the tile's secret hint", () => {
  it.each([
    ['verified', true],
    ['unverified', false],
  ])('a long secret rotated to one under 16 characters (%s) leaves no hint of the revoked one', async (_what, verify) => {
    const long = fakeToken('long');
    const short = 'sh0rt-k3y'; // 9 characters: too short for 4 of them to be shown
    front.allow(long);
    front.allow(short);
    const tile = await credport.credentials.create({ connector: 'front', values: { name: 'Support', apiKey: long }, baseUrl: front.url });
    expect(tile.secretHint).toBe(long.slice(-4));

    const rotated = await credport.credentials.rotate(tile.id, { secrets: { apiKey: short }, verify });
    expect(rotated).not.toHaveProperty('secretHint');
    expect(await credport.credentials.show(tile.id)).not.toHaveProperty('secretHint');
    expect(JSON.stringify(await credport.credentials.list())).not.toContain(long.slice(-4));
  });

  it('shows the last 4 characters of a secret from 16 characters on, and none under that', async () => {
    const sixteen = 'frontline-key-16';
    const tile = await credport.credentials.create({
      connector: 'frontline',
      values: { name: 'Frontline', apiKey: sixteen },
      verify: false,
    });
    expect(tile.secretHint).toBe('y-16');
    const rotated = await credport.credentials.rotate(tile.id, { secrets: { apiKey: sixteen.slice(1) }, verify: false });
    expect(rotated).not.toHaveProperty('secretHint');
  });

  it('a verified rotation is the new verification: the tile says when, and whose the new secret is', async () => {
    const first = fakeToken('first');
    const second = fakeToken('second');
    front.allow(first);
    front.allow(second);
    const tile = await credport.credentials.create({ connector: 'front', values: { name: 'Support', apiKey: first }, baseUrl: front.url });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const rotated = await credport.credentials.rotate(tile.id, { secrets: { apiKey: second } });
    expect(rotated).toMatchObject({ status: 'verified', identity: tile.identity, secretHint: second.slice(-4) });
    expect(rotated.verifiedAt).toBe(rotated.updatedAt);
    expect(Date.parse(rotated.verifiedAt!)).toBeGreaterThan(Date.parse(tile.verifiedAt!));
  });
});
