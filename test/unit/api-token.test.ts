import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { loadApiToken } from '../../src/server/api-token.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';

let home: string;
beforeEach(async () => (home = await tempHome()));
afterEach(() => removeHome(home));

describe('the API token of credport serve', () => {
  it('creates a long random token in a 0600 file on first start and reads the same one after', async () => {
    const first = await loadApiToken({ env: {}, home });
    expect(first.token.length).toBeGreaterThanOrEqual(40);
    expect((await loadApiToken({ env: {}, home })).token).toBe(first.token);
    expect((await readFile(join(home, 'api-token'), 'utf8')).trim()).toBe(first.token);
  });

  it('refuses a short token from the variable or from an edited file, without quoting it', async () => {
    await expect(loadApiToken({ env: { CREDPORT_API_TOKEN: 'short-token-abc' }, home })).rejects.toThrow(/at least 24 characters/);
    await writeFile(join(home, 'api-token'), 'changeme-abc\n', { mode: 0o600 });
    const refused = loadApiToken({ env: {}, home });
    await expect(refused).rejects.toThrow(/at least 24 characters/);
    await expect(refused).rejects.not.toThrow(/changeme-abc/);
  });

  it('refuses a token file other users can read', async () => {
    await writeFile(join(home, 'api-token'), `${'x'.repeat(40)}\n`, { mode: 0o600 });
    await chmod(join(home, 'api-token'), 0o644);
    await expect(loadApiToken({ env: {}, home })).rejects.toThrow(/readable by other users/);
  });
});
