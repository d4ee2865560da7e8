import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { withAccess } from '../../src/access/access.js';
import { openCredport, type Credport } from '../../src/open-credport.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';
import { testStoreUri } from '../helpers/test-store.js';

/**
 * credport.connect from the library, as a host's back end embeds it: the same rules as the API, on
 * each store (the once-only exchange is the store's compare-and-swap: SQLite, PostgreSQL, Redis).
 */
let home: string;
let credport: Credport;
beforeEach(async () => {
  home = await tempHome();
  credport = await openCredport({ home, storeUri: await testStoreUri() });
});
afterEach(async () => {
  await credport.close();
  await removeHome(home);
});

const ACME_EDITOR = { workspace: 'acme', role: 'editor' } as const;
const input = { endUser: { id: 'user-42' }, allowedOrigins: ['https://app.example.com'] };

describe('credport.connect', () => {
  it('exchanges a token once: of ten exchanges at the same moment exactly one wins (compare-and-swap in the store)', async () => {
    const { token } = await withAccess(ACME_EDITOR, () => credport.connect.createSession(input));
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => credport.connect.exchange(token)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code: string }).code] : []));
    expect(refused).toEqual(Array(9).fill('connect_token_used'));
  });

  it("the bearer grants the session's workspace as an editor confined to its grant, until revoked", async () => {
    const created = await withAccess(ACME_EDITOR, () => credport.connect.createSession({ ...input, connectors: ['front'] }));
    const { bearer } = await credport.connect.exchange(created.token);
    expect(await credport.connect.authenticate(bearer)).toEqual({
      workspace: 'acme',
      role: 'editor',
      confined: true,
      connect: { sessionId: created.id, endUserId: 'user-42', mode: 'pick', connectors: ['front'] },
    });
    await withAccess(ACME_EDITOR, () => credport.connect.revokeSession(created.id));
    expect(await credport.connect.authenticate(bearer)).toBeUndefined();
    expect(await credport.connect.authenticate(`${bearer.slice(0, -1)}A`)).toBeUndefined();
  });

  it("refuses a viewer, and a session's own bearer, to mint", async () => {
    await expect(withAccess({ workspace: 'acme', role: 'viewer' }, () => credport.connect.createSession(input))).rejects.toMatchObject({
      code: 'forbidden',
    });
    const { token } = await withAccess(ACME_EDITOR, () => credport.connect.createSession(input));
    const access = await credport.connect.authenticate((await credport.connect.exchange(token)).bearer);
    await expect(withAccess(access!, () => credport.connect.createSession(input))).rejects.toMatchObject({ code: 'forbidden' });
  });
});
