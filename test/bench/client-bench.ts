// credport/client's cost for npm run bench: listing 1,000 tiles through createCredportClient beside
// a raw fetch of the same route from the same process, against the same `credport serve`.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createCredportClient, nextCursor } from '../../src/client/index.js';
import { openCredport } from '../../src/open-credport.js';
import type { Row } from './credentials-bench.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const TOKEN = 'bench-client-token-0123456789abcdefghij';
const TILES = 1_000;

/** `credport serve --json` on a free loopback port, and how to stop it. */
async function serve(home: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const proc: ChildProcess = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--json'], {
    env: { ...process.env, CREDPORT_HOME: home, CREDPORT_API_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const listening = text.split('\n').find((line) => line.includes('"listening"'));
      if (listening) resolve((JSON.parse(listening) as { url: string }).url);
    });
    proc.once('exit', (code) => reject(new Error(`credport serve exited with ${code}`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  return { url, stop };
}

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Milliseconds per listing, medians of alternating rounds of `calls` sequential listings each. */
export async function clientBench(home: string, rounds: number, calls = 50): Promise<Row> {
  const credport = await openCredport({ home, env: {} });
  for (let i = 0; i < TILES; i++)
    await credport.credentials.create({
      connector: 'front',
      values: { name: `Front ${i}`, description: 'bench', apiKey: `front_token_${i}_abcdefghijkl` },
      verify: false,
    });
  await credport.close();
  const server = await serve(home);
  try {
    const client = createCredportClient({ baseUrl: server.url, token: TOKEN });
    const headers = { authorization: `Bearer ${TOKEN}`, accept: 'application/json' };
    // A page holds at most 500: both sides read the two pages, following the Link header.
    const viaClient = async () => {
      let count = 0;
      let cursor: string | undefined;
      do {
        const query = cursor === undefined ? { connector: 'front' } : { connector: 'front', cursor };
        count += (await client.listCredentials({ query }, { onResponse: (response) => (cursor = nextCursor(response)) })).length;
      } while (cursor !== undefined);
      return count;
    };
    const viaFetch = async () => {
      let count = 0;
      for (let next: string | undefined = '/api/v1/credentials?connector=front'; next !== undefined; ) {
        const response: Response = await fetch(`${server.url}${next}`, { headers });
        count += ((await response.json()) as unknown[]).length;
        next = /<([^>]*)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
      }
      return count;
    };
    const time = async (list: () => Promise<number>) => {
      const started = performance.now();
      for (let i = 0; i < calls; i++) if ((await list()) !== TILES) throw new Error(`a listing did not answer ${TILES} tiles`);
      return (performance.now() - started) / calls;
    };
    await time(viaClient); // warm both paths (JIT, keep-alive connections)
    await time(viaFetch);
    const ours: number[] = [];
    const base: number[] = [];
    for (let round = 0; round < rounds; round++) {
      ours.push(await time(viaClient));
      base.push(await time(viaFetch));
    }
    return {
      what: `list ${TILES.toLocaleString('en')} tiles (2 pages) via credport/client, x a raw fetch + JSON.parse`,
      ours: median(ours),
      base: median(base),
      unit: 'ms',
    };
  } finally {
    await server.stop();
  }
}
