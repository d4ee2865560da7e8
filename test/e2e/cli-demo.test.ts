import { describe, expect, it } from '@jest/globals';
import { access } from 'node:fs/promises';
import { runCli } from '../helpers/run-cli.js';

describe('credport demo (the README main job)', () => {
  it('runs the credential path offline on a temporary store, which it removes', async () => {
    const result = await runCli(['demo', '--json'], { env: {} });
    expect(result.code).toBe(0);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(events.map((e) => e.step ?? e.event)).toEqual(['emulator', 'store', 'form', 'added', 'refused', 'listed', 'tested', 'finished']);
    const finished = events.at(-1);
    expect(finished.tile).toMatchObject({ status: 'verified', identity: { id: 'cmp_emu1' } });
    expect(finished.refused).toMatchObject({ code: 'provider_rejected', exitCode: 3 });
    expect(finished.emulator).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(access(finished.home)).rejects.toThrow();
    expect(result.stdout).not.toMatch(/emu_[A-Za-z0-9_-]{20,}/); // the emulator token stays inside
  });
});
