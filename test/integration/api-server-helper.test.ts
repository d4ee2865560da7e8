import { access } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { API_TOKEN, startApi } from '../helpers/api-server.js';

// The set-up every server test shares (test/helpers/api-server.ts): if it served without the
// operator's token, or left a server, a store or a folder behind, every one of them would be wrong.
describe('the server tests’ set-up', () => {
  it('serves the API on loopback behind API_TOKEN, and close frees the port, the store and the home', async () => {
    const api = await startApi();
    expect(api.url).toBe(`http://127.0.0.1:${api.port}`);
    const connectors = (token?: string) =>
      fetch(`${api.url}/api/v1/connectors`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    expect((await connectors(API_TOKEN)).status).toBe(200);
    expect((await connectors()).status).toBe(401);
    expect(await api.credport.credentials.list()).toEqual([]);

    await api.close();
    await expect(connectors(API_TOKEN)).rejects.toThrow('fetch failed');
    await expect(api.credport.credentials.list()).rejects.toThrow();
    await expect(access(api.home)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
