import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fakeToken, randomMasterKey, removeHome, tempHome } from '../helpers/temp-home.js';
import { runCli } from '../helpers/run-cli.js';
import { ensurePostgres, ensureRedis, freshPostgresUri, freshRedisUri } from '../helpers/test-servers.js';
import { rawStore } from '../helpers/test-store.js';

/** The CLI on each store a user can name with --store or CREDPORT_STORE, against real servers. */
let home: string;
beforeAll(async () => {
  home = await tempHome();
  await ensurePostgres();
  await ensureRedis();
});
afterAll(() => removeHome(home));

describe.each([
  ['postgresql', freshPostgresUri],
  ['redis', freshRedisUri],
])('credport on a %s store', (_kind, fresh) => {
  it('saves, lists and deletes a credential there, sealed, with the master key from the environment', async () => {
    const store = await fresh();
    const env = { CREDPORT_HOME: home, CREDPORT_STORE: store, CREDPORT_MASTER_KEY: randomMasterKey() };
    const token = fakeToken('store');
    const added = await runCli(['credentials', 'add', 'front', '--name', 'On a server', '--secret-stdin', '--no-verify', '--json'], {
      env,
      input: token,
    });
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const tile = JSON.parse(added.stdout) as { id: string };
    const listed = await runCli(['credentials', 'list', '--connector', 'front', '--json'], { env });
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: tile.id, name: 'On a server', status: 'unverified' })]);
    const raw = await rawStore(home, store);
    try {
      const bytes = await raw.bytes();
      expect(bytes.includes(Buffer.from(tile.id))).toBe(true); // the record is on the server
      expect(bytes.includes(Buffer.from(token))).toBe(false);
      expect(bytes.includes(Buffer.from(token.slice(-12)))).toBe(false);
    } finally {
      await raw.close();
    }
    const other = await runCli(['credentials', 'list', '--json'], { env: { ...env, CREDPORT_MASTER_KEY: randomMasterKey() } });
    expect(other.code).toBe(5);
    expect(other.stderr).toContain('wrong master key');
    expect((await runCli(['credentials', 'delete', tile.id], { env })).code).toBe(0);
    expect(JSON.parse((await runCli(['credentials', 'list', '--json'], { env })).stdout)).toEqual([]);
  });
});

describe('a store server that cannot be used', () => {
  it.each([
    ['PostgreSQL, down', 'postgresql://credport:hunter2-pw@127.0.0.1:1/credport', 'ECONNREFUSED'],
    ['PostgreSQL, refusing the password', 'postgresql://credport:hunter2-pw@127.0.0.1:5432/postgres', 'password authentication failed'],
    ['Redis, down', 'redis://:hunter2-pw@127.0.0.1:1', 'ECONNREFUSED'],
  ])('%s: exit 5, the store named without its password', async (_what, store, reason) => {
    const result = await runCli(['credentials', 'list'], { env: { CREDPORT_HOME: home, CREDPORT_STORE: store } });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(`store ${store.replace(':hunter2-pw@', ':***@')} cannot be used`);
    expect(result.stderr).toContain(reason);
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });

  it('takes no more than the connect timeout to say so', async () => {
    const started = Date.now();
    // A routable address that drops packets would hang a client without a timeout; loopback port 1 refuses at once.
    const result = await runCli(['credentials', 'list', '--store', 'redis://127.0.0.1:1'], { env: { CREDPORT_HOME: home } });
    expect(result.code).toBe(5);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
