import { describe, expect, it } from '@jest/globals';
import { access } from 'node:fs/promises';
import { runCli } from '../helpers/run-cli.js';

describe('credport demo (the README main job)', () => {
  it('runs credential, source, destination and sync offline on a temporary store, which it removes', async () => {
    const result = await runCli(['demo', '--json', '--records', '300'], { env: {} });
    expect(result.code).toBe(0);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.filter((e) => e.event === 'step').map((e) => e.step)).toEqual([
      'emulator',
      'store',
      'form',
      'added',
      'refused',
      'listed',
      'tested',
      'configured',
      'synced',
    ]);
    expect(events.filter((e) => e.event === 'page').length).toBe(4 * 3 + 2);
    const finished = events.at(-1);
    expect(finished.event).toBe('demo_finished');
    expect(finished.tile).toMatchObject({ status: 'verified', identity: { id: 'cmp_emu1' } });
    expect(finished.refused).toMatchObject({ code: 'provider_rejected', exitCode: 3 });
    expect(finished.sync).toMatchObject({ records: 4 * 300 + 3 + 5, pages: 14 });
    await expect(access(finished.home)).rejects.toThrow();
    expect(result.stdout).not.toMatch(/emu_[A-Za-z0-9_-]{20,}/); // the emulator token stays inside
  });
});
