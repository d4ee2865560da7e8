import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FronteggEmulator, type FronteggEmulatorOptions } from '../../src/emulator/frontegg-emulator.js';
import { openCredport } from '../../src/open-credport.js';
import { allBytes, removeHome, tempHome } from '../helpers/temp-home.js';
import { type CliResult, runCli } from '../helpers/run-cli.js';

let home: string;
let emulator: FronteggEmulator;
let printed: string[];
const cli = async (args: string[], input = ''): Promise<CliResult> => {
  const result = await runCli(args, { env: { CREDPORT_HOME: home, CREDPORT_HTTP_RETRIES: '0' }, input });
  printed.push(result.stdout, result.stderr);
  return result;
};

async function start(options: FronteggEmulatorOptions = {}): Promise<void> {
  emulator = await new FronteggEmulator(options).start();
}
const add = (credentials: object = emulator.credentials) =>
  cli(
    ['credentials', 'add', 'frontegg', '--name', 'Frontegg', '--base-url', emulator.url, '--secret-stdin', '--json'],
    JSON.stringify(credentials),
  );

beforeEach(async () => {
  home = await tempHome();
  printed = [];
});
afterEach(async () => {
  // The Secret Key never shows up in anything printed or stored.
  const secret = emulator?.credentials.secret;
  await emulator?.stop();
  try {
    if (secret) {
      expect(printed.join('\n')).not.toContain(secret);
      expect((await allBytes(home)).includes(Buffer.from(secret))).toBe(false);
    }
  } finally {
    await removeHome(home);
  }
});

async function syncUsers(credential: string, extra: string[] = []): Promise<CliResult> {
  const source = JSON.parse((await cli(['sources', 'add', 'frontegg', '--name', 'Users', '--credential', credential, '--json'])).stdout).id;
  const destination = JSON.parse(
    (await cli(['destinations', 'add', 'jsonl', '--name', 'Files', '--path', join(home, 'out'), '--json'])).stdout,
  ).id;
  return cli(['sync', source, '--to', destination, '--json', ...extra]);
}

describe('the Frontegg connector', () => {
  it('saves a credential after a real exchange, the tile showing the Client ID and the token expiry, never the secret', async () => {
    await start();
    const result = await add();
    expect(result.code).toBe(0);
    const tile = JSON.parse(result.stdout);
    expect(tile).toMatchObject({ connector: 'frontegg', status: 'verified', identity: { clientId: emulator.credentials.clientId } });
    expect(Date.parse(tile.identity.tokenExpiresAt)).toBeGreaterThan(Date.now());
    expect(emulator.stats.exchanges).toBe(1);
  });

  it('refuses a wrong secret with nothing saved (exit 3)', async () => {
    await start();
    const result = await add({ clientId: emulator.credentials.clientId, secret: 'fe_wrong_secret_value' });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('Frontegg rejected the credential: 401 Invalid client credentials');
    expect(JSON.parse((await cli(['credentials', 'list', '--json'])).stdout)).toEqual([]);
  });

  it('sends the exchanged access token on every request, never the Client ID or secret', async () => {
    await start({ users: 250 });
    const credential = JSON.parse((await add()).stdout).id;
    const result = await syncUsers(credential);
    expect(result.code).toBe(0);
    expect(emulator.authorizations.length).toBe(3);
    for (const header of emulator.authorizations) {
      expect(header).toMatch(/^Bearer fe_at_[A-Za-z0-9_-]+$/);
      expect(header).not.toContain(emulator.credentials.secret);
      expect(header).not.toContain(emulator.credentials.clientId);
    }
  });

  it('renews a token that expires mid-sync once, with no request failing', async () => {
    // Tokens really live 400 ms but claim an hour: the API's 401 is what tells the client.
    await start({ users: 1500, tokenTtlMs: 400, announcedExpiresIn: 3600, pageDelayMs: 60 });
    const credential = JSON.parse((await add()).stdout).id;
    const exchangesBefore = emulator.stats.exchanges;
    // One page at a time: each renewal is then met by exactly one request (the concurrent case is below).
    const result = await syncUsers(credential, ['--concurrency', '1']);
    expect(result.code).toBe(0);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.filter((e) => e.event === 'failed')).toEqual([]);
    const ids = (await readFile(join(home, 'out', 'users.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(new Set(ids).size).toBe(1500);
    expect(ids).toHaveLength(1500);
    const exchanges = emulator.stats.exchanges - exchangesBefore;
    expect(emulator.stats.unauthorized).toBe(exchanges - 1); // each renewal answers exactly one 401
    expect(exchanges).toBeGreaterThanOrEqual(2);
  });

  it('renews once for all the pages in flight when the token expires under a concurrent read, writing each user once in order', async () => {
    await start({ users: 3000, tokenTtlMs: 300, announcedExpiresIn: 3600, pageDelayMs: 60 });
    const credential = JSON.parse((await add()).stdout).id;
    const exchangesBefore = emulator.stats.exchanges;
    const result = await syncUsers(credential, ['--concurrency', '4']);
    expect(result.code).toBe(0);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.filter((e) => e.event === 'failed')).toEqual([]);
    const ids = (await readFile(join(home, 'out', 'users.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(ids).toHaveLength(3000);
    expect(new Set(ids).size).toBe(3000);
    // Pages fetched ahead are still written in order.
    expect(ids).toEqual([...ids].sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, ''))));
    const renewals = emulator.stats.exchanges - exchangesBefore - 1;
    expect(renewals).toBeGreaterThanOrEqual(1);
    // The pages in flight with the stale token each meet one 401, and together they cause one exchange.
    expect(emulator.stats.unauthorized).toBeGreaterThanOrEqual(renewals);
    expect(emulator.stats.unauthorized).toBeLessThanOrEqual(renewals * 4);
    // No page past the last is asked for: the provider said how many there are.
    expect(emulator.stats.pages).toBe(30);
  });

  it('reads the older camelCase exchange answer (accessToken, expiresIn)', async () => {
    await start({ camelCase: true });
    const result = await add();
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).status).toBe('verified');
  });

  it('takes several fields from stdin as one JSON object, and names what is missing', async () => {
    await start();
    const notJson = await cli(
      ['credentials', 'add', 'frontegg', '--name', 'F', '--base-url', emulator.url, '--secret-stdin'],
      emulator.credentials.secret,
    );
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toBe(
      'credport: this connector takes several fields (clientId, secret, region, domain): give them on stdin as one JSON object\n',
    );
    const noSecret = await add({ clientId: emulator.credentials.clientId });
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain('Secret Key (secret) is required');
  });

  it('picks the base URL from the region, or the environment domain', async () => {
    emulator = undefined as unknown as FronteggEmulator;
    const us = await cli(
      ['credentials', 'add', 'frontegg', '--name', 'US', '--no-verify', '--secret-stdin', '--json'],
      JSON.stringify({ clientId: 'client-id-1', secret: 'secret-value-1', region: 'US' }),
    );
    expect(JSON.parse(us.stdout).baseUrl).toBe('https://api.us.frontegg.com');
    const own = await cli(
      ['credentials', 'add', 'frontegg', '--name', 'Own', '--no-verify', '--secret-stdin', '--json'],
      JSON.stringify({ clientId: 'client-id-2', secret: 'secret-value-2', domain: 'acme.frontegg.com' }),
    );
    expect(JSON.parse(own.stdout).baseUrl).toBe('https://acme.frontegg.com');
    const eu = await cli(
      ['credentials', 'add', 'frontegg', '--name', 'EU', '--no-verify', '--secret-stdin', '--json'],
      JSON.stringify({ clientId: 'client-id-3', secret: 'secret-value-3' }),
    );
    expect(JSON.parse(eu.stdout)).not.toHaveProperty('baseUrl'); // EU is the default gateway
  });

  it('makes one exchange for 50 concurrent requests, and one renewal when all 50 meet an expired token', async () => {
    // Long enough that 50 requests on a loaded machine all finish inside the token's life.
    await start({ users: 10, tokenTtlMs: 2000, announcedExpiresIn: 3600 });
    const credport = await openCredport({ home, env: {} });
    const tile = await credport.credentials.create({
      connector: 'frontegg',
      values: { name: 'F', ...emulator.credentials },
      baseUrl: emulator.url,
      verify: false,
    });
    const client = await credport.credentials.client(tile.id);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => client.request<{ items: unknown[] }>({ path: '/identity/resources/users/v3?_limit=5' })),
    );
    expect(answers.every((a) => a.body.items.length === 5)).toBe(true);
    expect(emulator.stats.exchanges).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 2050)); // the token dies; the client still believes it
    const again = await Promise.all(
      Array.from({ length: 50 }, () => client.request<{ items: unknown[] }>({ path: '/identity/resources/users/v3?_limit=5' })),
    );
    expect(again.every((a) => a.body.items.length === 5)).toBe(true);
    expect(emulator.stats.exchanges).toBe(2);
    await credport.close();
  });
});
