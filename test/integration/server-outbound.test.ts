// Where a workspace's credentials may send requests, attacked from outside as a tenant would:
// over real loopback HTTP with a workspace's API token, at a stand-in on another loopback port
// that must never hear a byte (SSRF: this machine's Redis, PostgreSQL, the API itself, any admin page).
import type { LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { type Access, EVERY_WORKSPACE, withAccess } from '../../src/access/access.js';
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { OutboundPolicy, type Resolver } from '../../src/http/outbound-policy.js';
import type { Credport } from '../../src/open-credport.js';
import { writeConnector } from '../helpers/connector-fixtures.js';
import { API_TOKEN, type ApiUnderTest, startApi } from '../helpers/api-server.js';
import { startStandIn } from '../helpers/stand-in.js';
import { fakeToken, removeHome, tempHome } from '../helpers/temp-home.js';
import { rawStore } from '../helpers/test-store.js';
import type { JsonBody } from '../helpers/json-body.js';

const operatorAcme: Access = { workspace: 'acme', role: 'admin' };
const tenantAcme: Access = { workspace: 'acme', role: 'admin', confined: true };
let front: FrontEmulator;
const frontKey = fakeToken('front');
let standIn: Awaited<ReturnType<typeof startStandIn>>;
let standInPort: number;
let api: ApiUnderTest;
let home: string;
let credport: Credport;
let port: number;
let tenantToken: string;

beforeAll(async () => {
  front = await new FrontEmulator({ records: 5, tokens: [frontKey] }).start();
  // Anything that connects here is a request the policy let through.
  standIn = await startStandIn();
  standInPort = standIn.port;
});
afterAll(async () => {
  await standIn.close();
  await front.stop();
});

async function start(options: { resolve?: Resolver; connectors?: string } = {}) {
  api = await startApi({
    open: {
      ...(options.resolve ? { outbound: new OutboundPolicy({ resolve: options.resolve }) } : {}),
      ...(options.connectors ? { extraConnectorDirs: [options.connectors] } : {}),
    },
    server: { verifyLimit: { max: 1000, timeWindow: 60_000 } },
  });
  ({ home, credport, port } = api);
  tenantToken = (
    await withAccess({ workspace: 'acme', role: 'admin' }, () => credport.tokens.create({ name: 'acme admin', role: 'admin' }))
  ).token!;
}

// The stand-in's count before each test: what it hears during one is that test's doing.
let heardBefore = 0;
const heard = () => standIn.heard() - heardBefore;
beforeEach(() => {
  heardBefore = standIn.heard();
});
afterEach(async () => {
  await api.close();
});

function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: JsonBody }> {
  const sent = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { authorization: `Bearer ${token}`, ...(sent ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(sent);
  });
}

describe("a workspace's credential pointed at this machine or a private network", () => {
  beforeEach(() => start());

  it('is refused 403 before any connection, in every notation, verified or not, naming /baseUrl and the policy; nothing saved', async () => {
    const p = standInPort;
    const targets = [
      `http://127.0.0.1:${p}`,
      `http://localhost:${p}`,
      `https://LOCALHOST.:${p}`,
      `http://0x7f000001:${p}`,
      `http://2130706433:${p}`,
      `http://0177.0.0.1:${p}`,
      `http://127.1:${p}`,
      `http://127.0.0.2:${p}`,
      `http://[::1]:${p}`,
      `https://[::ffff:127.0.0.1]:${p}`,
      `https://127.0.0.1:${p}`,
      `https://localhost:${p}`,
      `https://169.254.169.254`,
      `https://10.0.0.8`,
      `https://internal.corp.example`,
    ];
    for (const baseUrl of targets) {
      for (const verify of [true, false]) {
        const answer = await call('POST', '/api/v1/credentials', tenantToken, {
          connector: 'front',
          baseUrl,
          verify,
          values: { name: 'Internal', apiKey: frontKey },
        });
        expect({ baseUrl, status: answer.status, code: answer.body.code, field: answer.body.field }).toEqual({
          baseUrl,
          status: 403,
          code: 'outbound_refused',
          field: '/baseUrl',
        });
        expect(answer.body.detail).toMatch(
          /^the outbound policy refuses .*(connector's own origins \(https:\/\/api2\.frontapp\.com\) or at origins the operator allows \(CREDPORT_ALLOWED_ORIGINS, credport serve --allow-origin\)|an address of this machine or a private network)/,
        );
      }
    }
    expect((await call('GET', '/api/v1/credentials', tenantToken)).body).toEqual([]);
    expect(heard()).toBe(0);
  });

  it("a Frontegg environment domain outside the connector's custom domains is refused on /values/domain", async () => {
    for (const domain of ['127.0.0.1', 'internal.corp.example', 'frontegg.com.internal.example']) {
      const answer = await call('POST', '/api/v1/credentials', tenantToken, {
        connector: 'frontegg',
        verify: false,
        values: { name: 'Env', clientId: 'client-0123456789', secret: fakeToken('fe'), domain },
      });
      expect({ domain, status: answer.status, code: answer.body.code, field: answer.body.field }).toEqual({
        domain,
        status: 403,
        code: 'outbound_refused',
        field: '/values/domain',
      });
    }
    expect((await call('GET', '/api/v1/credentials', tenantToken)).body).toEqual([]);
  });

  it("the server's own token (the operator) still points a credential at a loopback emulator", async () => {
    const answer = await call('POST', '/api/v1/credentials', API_TOKEN, {
      connector: 'front',
      baseUrl: front.url,
      values: { name: 'Emulator', apiKey: frontKey },
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: 'verified', baseUrl: front.url });
  });

  it('an origin the operator allows is open to tenants, and GET /connectors lists it for that connector only', async () => {
    credport.outbound.allow(`front=${front.url}`);
    const answer = await call('POST', '/api/v1/credentials', tenantToken, {
      connector: 'front',
      baseUrl: front.url,
      values: { name: 'Emulator', apiKey: frontKey },
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: 'verified', workspace: 'acme' });
    const connectors = (await call('GET', '/api/v1/connectors', tenantToken)).body as {
      id: string;
      allowedOrigins?: string[];
      customDomains?: string[];
    }[];
    expect(connectors.find((c) => c.id === 'front')?.allowedOrigins).toEqual([front.url]);
    expect(connectors.find((c) => c.id === 'frontline')?.allowedOrigins).toBeUndefined();
    expect(connectors.find((c) => c.id === 'frontegg')?.customDomains).toEqual(['*.frontegg.com']);
    // Another port of the same address is another origin.
    const other = await call('POST', '/api/v1/credentials', tenantToken, {
      connector: 'front',
      baseUrl: `http://127.0.0.1:${standInPort}`,
      values: { name: 'Next door', apiKey: frontKey },
    });
    expect(other.status).toBe(403);
    expect(heard()).toBe(0);
  });
});

describe('a credential saved before the policy, pointing where a tenant may not', () => {
  beforeEach(() => start());

  /** acme's credential at the stand-in, saved by an older release (no record of who set the base URL). */
  async function savedEarlier(): Promise<string> {
    const tile = await withAccess(operatorAcme, () =>
      credport.credentials.create({
        connector: 'front',
        baseUrl: `http://127.0.0.1:${standInPort}`,
        values: { name: 'Old one', apiKey: frontKey },
        verify: false,
      }),
    );
    const raw = await rawStore(home, undefined);
    const key = `credport:credential:${tile.id}`;
    const stored = JSON.parse((await raw.get(key))!) as { value: Record<string, unknown> };
    expect(stored.value.baseUrlBy).toBe('operator');
    delete stored.value.baseUrlBy;
    await raw.set(key, JSON.stringify(stored));
    await raw.close();
    return tile.id;
  }

  it('fails its next test by the tenant with 403 naming the policy, its tile says so, and the stand-in hears nothing', async () => {
    const id = await savedEarlier();
    const tested = await call('POST', `/api/v1/credentials/${id}/test`, tenantToken);
    expect(tested.status).toBe(403);
    expect(tested.body).toMatchObject({
      code: 'outbound_refused',
      detail: expect.stringContaining('the outbound policy refuses http://127.0.0.1:'),
    });
    const tile = (await call('GET', `/api/v1/credentials/${id}`, tenantToken)).body;
    expect(tile).toMatchObject({ status: 'invalid', invalidReason: tested.body.detail });
    expect(heard()).toBe(0);
  });

  it("fails the tenant's sync and the operator's re-verification pass alike: a tenant's record keeps the tenant's reach", async () => {
    const id = await savedEarlier();
    const { source, destination } = await withAccess(tenantAcme, async () => ({
      source: await credport.configs.addSource({ name: 'Old', connector: 'front', credentialId: id, streams: ['tags'] }),
      destination: await credport.configs.addDestination({ name: 'Files', connector: 'jsonl' }),
    }));
    // As the scheduled pass runs it: every workspace, the operator's process.
    const summary = await withAccess({ workspace: EVERY_WORKSPACE, role: 'admin' }, () => credport.reverify({ olderThanMs: 0 }));
    expect(summary).toMatchObject({ checked: 1, verified: 0, failed: 1 });
    expect((await withAccess(operatorAcme, () => credport.credentials.show(id))).invalidReason).toMatch(
      /^the outbound policy refuses http:\/\/127\.0\.0\.1:/,
    );
    await expect(withAccess(tenantAcme, () => credport.syncs.run(source.id, destination.id))).rejects.toMatchObject({
      code: 'outbound_refused',
    });
    expect(heard()).toBe(0);
    // The operator's own credential in its own workspace keeps the operator's reach.
    const mine = await credport.credentials.create({
      connector: 'front',
      baseUrl: `http://127.0.0.1:${standInPort}`,
      values: { name: 'Mine', apiKey: frontKey },
      verify: false,
    });
    await credport.credentials.test(mine.id).catch(() => undefined);
    expect(heard()).toBe(1);
  });
});

describe('a name the tenant may use that resolves to this machine (DNS rebinding)', () => {
  it('is refused when connecting, for a bearer request and for a token exchange, with no byte sent', async () => {
    const root = await tempHome();
    await writeConnector(root, 'rebound', (m) => {
      m.http = { baseUrl: `https://api.rebound.test:${standInPort}`, allowedHosts: [] };
    });
    await writeConnector(root, 'exchanged', (m) => {
      m.http = { baseUrl: `https://api.exchanged.test:${standInPort}`, allowedHosts: [] };
      m.auth = {
        strategy: 'token-exchange',
        secret: 'token',
        exchange: { path: '/token', body: { secret: '{token}' }, accessToken: ['/access_token'], expiresIn: ['/expires_in'] },
      };
      m.verification = { via: 'token-exchange', identity: {} };
    });
    // The tenant's DNS: public when the credential is saved, this machine when it is used.
    let answer = '93.184.216.34';
    const resolve: Resolver = (_host, _options, callback) => callback(null, [{ address: answer, family: 4 } as LookupAddress]);
    await start({ resolve, connectors: root });
    try {
      for (const connector of ['rebound', 'exchanged']) {
        const saved = await call('POST', '/api/v1/credentials', tenantToken, {
          connector,
          verify: false,
          values: { name: 'Rebound', token: fakeToken('rb') },
        });
        expect(saved.status).toBe(201);
        answer = '127.0.0.1';
        const tested = await call('POST', `/api/v1/credentials/${saved.body.id}/test`, tenantToken);
        expect({ connector, status: tested.status, code: tested.body.code }).toEqual({ connector, status: 403, code: 'outbound_refused' });
        expect(tested.body.detail).toMatch(
          /^the outbound policy refuses api\.(rebound|exchanged)\.test: it resolves to an address of this machine or a private network/,
        );
        answer = '93.184.216.34';
      }
      expect(heard()).toBe(0);
    } finally {
      await removeHome(root);
    }
  });
});
