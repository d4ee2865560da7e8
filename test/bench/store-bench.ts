// Store figures for npm run bench: listing one connector's 1,000 tiles of 10,000 on each store,
// beside the raw query of the same rows on that server (and a JSON.parse each).
import { join } from 'node:path';
import { createClient } from '@keyv/redis';
import KeyvSqlite from '@keyv/sqlite';
import pg from 'pg';
import { openCredport } from '../../src/open-credport.js';
import { ensurePostgres, ensureRedis, freshPostgresUri, freshRedisUri } from '../helpers/test-servers.js';
import { ACME, fillStore, median, type Row, TOTAL } from './credentials-bench.js';

type Raw = { list: () => Promise<unknown[]>; close: () => Promise<void> };

async function rawFor(kind: string, uri: string): Promise<Raw> {
  const parse = (values: (string | null)[]) => values.filter((v): v is string => v !== null).map((v) => JSON.parse(v).value);
  if (kind === 'postgresql') {
    const client = new pg.Client({ connectionString: uri });
    await client.connect();
    const sql = "SELECT value FROM keyv WHERE key LIKE 'credport:credential:%' AND (value::jsonb -> 'value' ->> 'connector') = 'acme'";
    return { list: async () => parse((await client.query(sql)).rows.map((r) => r.value)), close: () => client.end() };
  }
  if (kind === 'redis') {
    const client = createClient({ url: uri });
    await client.connect();
    // The least a Redis listing of one connector can do: its ids from a set, then one MGET.
    const list = async () => {
      const ids = await client.sMembers('credport:group:credential:connector:acme');
      return parse(await client.mGet(ids.map((id) => `credport:credential:${id}`)));
    };
    return { list, close: async () => void (await client.close()) };
  }
  const db = new KeyvSqlite({ uri } as never);
  const sql = "SELECT value FROM keyv WHERE key LIKE 'credport:credential:%' AND json_extract(value, '$.value.connector') = 'acme'";
  return { list: async () => parse(((await db.query(sql)) as { value: string }[]).map((r) => r.value)), close: () => db.disconnect() };
}

export async function storeBench(home: string, extras: string): Promise<{ rows: Row[]; fills: Record<string, number> }> {
  await ensurePostgres();
  await ensureRedis();
  const stores: [string, string][] = [
    ['sqlite', `sqlite://${join(home, 'credport.sqlite')}`],
    ['postgresql', await freshPostgresUri()],
    ['redis', await freshRedisUri()],
  ];
  const rows: Row[] = [];
  const fills: Record<string, number> = {};
  for (const [kind, uri] of stores) {
    const credport = await openCredport({ home, storeUri: uri, env: {}, extraConnectorDirs: [extras] });
    const started = performance.now();
    await fillStore(credport);
    fills[kind] = (performance.now() - started) / TOTAL;
    const raw = await rawFor(kind, uri);
    if ((await credport.credentials.list({ connector: 'acme' })).length !== ACME || (await raw.list()).length !== ACME)
      throw new Error(`the ${kind} listing is wrong`);
    // Interleaved, so a noisy neighbour hurts both alike.
    const ours: number[] = [];
    const base: number[] = [];
    for (let round = 0; round < 7; round++) {
      ours.push(await median(1, () => credport.credentials.list({ connector: 'acme' })));
      base.push(await median(1, raw.list));
    }
    const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    rows.push({ what: `${kind}: list one connector (${ACME} of ${TOTAL})`, ours: mid(ours), base: mid(base), unit: 'ms' });
    await raw.close();
    await credport.close();
  }
  return { rows, fills };
}
