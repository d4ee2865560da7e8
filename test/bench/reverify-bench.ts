// Re-verification figures for npm run bench: 1,000 stale credentials re-tested against the Front
// emulator limited to a rate, beside that limit (the pass should run at it, not below it).
import { FrontEmulator } from '../../src/emulator/front-emulator.js';
import { openCredport } from '../../src/open-credport.js';

export async function reverifyBench(
  home: string,
  total: number,
  perSecond: number,
): Promise<{ requestsPerSecond: number; ofLimit: number; rateLimited: number; ms: number }> {
  const tokens = Array.from({ length: 50 }, (_, i) => `bench_reverify_token_${i}_abcdefghijkl`);
  const emulator = await new FrontEmulator({ tokens, rateLimit: perSecond, rateWindowMs: 1000 }).start();
  const credport = await openCredport({ home, env: { CREDPORT_HTTP_RETRIES: '2' } });
  try {
    for (let i = 0; i < total; i++) {
      await credport.credentials.create({
        connector: 'front',
        values: { name: `R${i}`, apiKey: tokens[i % tokens.length]! },
        baseUrl: emulator.url,
        verify: false,
      });
    }
    const summary = await credport.reverify({ olderThanMs: 60_000, concurrency: 8 });
    if (summary.verified !== total) throw new Error(`re-verified ${summary.verified} of ${total}`);
    const requestsPerSecond = (total * 1000) / summary.ms;
    return { requestsPerSecond, ofLimit: requestsPerSecond / perSecond, rateLimited: emulator.stats.rateLimited, ms: summary.ms };
  } finally {
    await credport.close();
    await emulator.stop();
  }
}
