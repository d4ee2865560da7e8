import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rawRequest } from '../helpers/raw-http.js';
import { runCli } from '../helpers/run-cli.js';
import { type Served, startServe } from '../helpers/serve.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

/**
 * The real `credport serve`, as an operator starts it: `--demo` allows its emulators to every
 * caller, `--allow-origin` adds origins for workspace tokens, and a mistyped origin stops it.
 */
let home: string;
let served: Served;
let tenant: Record<string, string>;

beforeAll(async () => {
  home = await tempHome();
  const made = await runCli(['tokens', 'create', '--workspace', 'acme', '--name', 'acme ci', '--role', 'editor', '--json'], {
    env: { CREDPORT_HOME: home },
  });
  expect(made.code).toBe(0);
  tenant = { authorization: `Bearer ${JSON.parse(made.stdout).token}` };
  served = await startServe({
    home,
    args: ['--demo', '--allow-origin', 'https://proxy.example.com', 'frontline=https://eu.proxy.example.com:8443'],
  });
}, 30_000);

afterAll(async () => {
  await served?.stop();
  await removeHome(home);
});

describe('credport serve and the outbound policy', () => {
  it("lets a workspace token use the demo's emulators (each for its own connector) and lists the allowed origins", async () => {
    const demo = await rawRequest(served.url, 'GET', '/api/v1/demo', { headers: tenant });
    expect(demo.status).toBe(200);
    const { frontline, front } = demo.body.providers as Record<string, { baseUrl: string; values: Record<string, string> }>;
    const created = await rawRequest(served.url, 'POST', '/api/v1/credentials', {
      headers: tenant,
      body: { connector: 'frontline', baseUrl: frontline!.baseUrl, values: { name: 'Demo', ...frontline!.values } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'verified', workspace: 'acme' });
    // Front's emulator is allowed for Front only.
    const crossed = await rawRequest(served.url, 'POST', '/api/v1/credentials', {
      headers: tenant,
      body: { connector: 'frontline', baseUrl: front!.baseUrl, values: { name: 'Demo', ...frontline!.values } },
    });
    expect(crossed.status).toBe(403);
    expect(crossed.body).toMatchObject({ code: 'outbound_refused', field: '/baseUrl' });
    const connectors = (await rawRequest(served.url, 'GET', '/api/v1/connectors', { headers: tenant })).body as {
      id: string;
      allowedOrigins?: string[];
    }[];
    expect(connectors.find((c) => c.id === 'frontline')?.allowedOrigins).toEqual([
      'https://proxy.example.com',
      'https://eu.proxy.example.com:8443',
      new URL(frontline!.baseUrl).origin,
    ]);
    expect(connectors.find((c) => c.id === 'front')?.allowedOrigins).toEqual(['https://proxy.example.com', new URL(front!.baseUrl).origin]);
  });

  it('refuses to start on an allowance that is not an origin, naming it (exit 2)', async () => {
    const refused = await runCli(['serve', '--port', '0', '--allow-origin', 'https://proxy.example.com/v1'], {
      env: { CREDPORT_HOME: home },
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('"https://proxy.example.com/v1" is not an origin: give scheme, host and port only');
    const env = await runCli(['serve', '--port', '0'], {
      env: { CREDPORT_HOME: home, CREDPORT_ALLOWED_ORIGINS: 'front=ftp://files.example.com' },
    });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('"front=ftp://files.example.com" is not an origin');
  });
});
