import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { runCli } from '../helpers/run-cli.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

let home: string;
beforeEach(async () => (home = await tempHome()));
afterEach(async () => removeHome(home));

describe('credport connect session', () => {
  it('mints (the token printed once), shows and revokes a session of the workspace; another workspace does not find it', async () => {
    const env = { CREDPORT_HOME: home };
    const created = await runCli(
      [
        'connect',
        'session',
        'create',
        '--end-user',
        'user-42',
        '--origin',
        'https://app.example.com',
        '--connector',
        'front',
        '--mode',
        'create',
        '--workspace',
        'acme',
        '--json',
      ],
      { env },
    );
    expect(created.code).toBe(0);
    const { id, token, url } = JSON.parse(created.stdout) as { id: string; token: string; url: string };
    expect(token).toMatch(/^ccs_/);
    expect(url).toBe(`/connect/${id}`);

    const shown = await runCli(['connect', 'session', 'show', id, '--workspace', 'acme', '--json'], { env });
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, state: 'pending', mode: 'create', connectors: ['front'] });
    expect(shown.stdout).not.toContain(token.split('.')[1]);
    expect((await runCli(['connect', 'session', 'show', id, '--workspace', 'globex'], { env })).code).toBe(2);

    const revoked = await runCli(['connect', 'session', 'revoke', id, '--workspace', 'acme'], { env });
    expect(revoked.stdout).toContain(`revoked ${id}`);
    expect((await runCli(['connect', 'session', 'show', id, '--workspace', 'acme'], { env })).stdout).toContain('revoked');
  });

  it('refuses an origin with a path, naming it, and saves nothing', async () => {
    const env = { CREDPORT_HOME: home };
    const refused = await runCli(['connect', 'session', 'create', '--end-user', 'u', '--origin', 'https://app.example.com/embed'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('must be an origin only');
  });
});
