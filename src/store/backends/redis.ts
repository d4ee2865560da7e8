import KeyvRedis from '@keyv/redis';
import { connectRedis, type RedisClient } from '../../connections/connect-redis.js';
import { secretsOfUri } from '../../text/redact-uri.js';
import {
  type Backend,
  type GroupIndex,
  matches,
  NAMESPACE,
  parseOrMarkDamaged,
  type Scan,
  type ScanPage,
  unusable,
  keyvOver,
  type Where,
} from '../backend.js';

const BATCH = 1_000;
const SWAP_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local ok, stored = pcall(cjson.decode, current)
if not ok or type(stored) ~= 'table' or type(stored.value) ~= 'table' then return 0 end
local rev = stored.value.rev
if type(rev) ~= 'number' then rev = 0 end
if rev ~= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1`;
// SWAP_SCRIPT for many keys in one call (a key rotation's batch): ARGV holds text and revision in turn.
const SWAP_MANY_SCRIPT = `
local landed = {}
for i, key in ipairs(KEYS) do
  landed[i] = 0
  local current = redis.call('GET', key)
  if current then
    local ok, stored = pcall(cjson.decode, current)
    if ok and type(stored) == 'table' and type(stored.value) == 'table' then
      local rev = stored.value.rev
      if type(rev) ~= 'number' then rev = 0 end
      if rev == tonumber(ARGV[2 * i]) then
        redis.call('SET', key, ARGV[2 * i - 1])
        landed[i] = 1
      end
    end
  end
end
return landed`;
const FENCED_PUT_SCRIPT = `
local lease = redis.call('GET', KEYS[2])
if not lease then return 0 end
local ok, stored = pcall(cjson.decode, lease)
if not ok or type(stored) ~= 'table' or type(stored.value) ~= 'table' then return 0 end
if stored.value.token ~= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1`;

/** `redis://[:password@]host:port[/db]`: keys `credport:<kind>:<id>`, as in the SQL stores. */
export async function openRedis(uri: string, shown: string): Promise<Backend> {
  let client: RedisClient;
  try {
    client = await connectRedis(uri, { server: `the store (${shown})`, unavailable: 'store_unavailable' });
  } catch (error) {
    throw unusable(shown, error, secretsOfUri(uri));
  }

  const adapter = new KeyvRedis(client, { throwOnErrors: true, throwOnConnectError: true });
  adapter.keyPrefixSeparator = ':';
  adapter.on('error', () => undefined);
  // keyv hands its namespace to the adapter, which prefixes the keys itself (once).
  const keyv = keyvOver(adapter, { useKeyPrefix: false });

  const keysOf = async (pattern: string) => {
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: pattern, COUNT: BATCH })) keys.push(...batch);
    return keys;
  };
  const valuesOf = async (keys: string[], prefix: string): Promise<[string, unknown][]> => {
    const skip = NAMESPACE.length + 1 + prefix.length;
    const rows: [string, unknown][] = [];
    for (let i = 0; i < keys.length; i += BATCH) {
      const slice = keys.slice(i, i + BATCH);
      const values = await client.mGet(slice);
      values.forEach((value, j) => {
        if (value !== null) rows.push([slice[j]!.slice(skip), parseOrMarkDamaged<unknown>(String(value)).value]);
      });
    }
    return rows;
  };
  const groupKey = (prefix: string, field: string, value: string) => `${NAMESPACE}:group:${prefix}${field}:${value}`;
  // Redis cannot filter values on the server: records grouped by a field (tiles by connector) are
  // listed from the group's set, so one connector's tiles do not read every record.
  const groups: GroupIndex = {
    add: async (prefix, field, value, id) => void (await client.sAdd(groupKey(prefix, field, value), id)),
    remove: async (prefix, field, value, id) => void (await client.sRem(groupKey(prefix, field, value), id)),
  };
  const scan: Scan = async (prefix, where, grouped, page) => {
    if (page) return firstPage(prefix, where, page);
    if (where && grouped) {
      const ids = await client.sMembers(groupKey(prefix, where.field, where.equals));
      // A member whose record is gone (a delete cut short) is skipped; so is one that moved group.
      const rows = await valuesOf(
        ids.map((id) => `${NAMESPACE}:${prefix}${id}`),
        prefix,
      );
      return rows.filter(([, value]) => matches(value, where));
    }
    const rows = await valuesOf(await keysOf(`${NAMESPACE}:${escapeGlob(prefix)}*`), prefix);
    return where ? rows.filter(([, value]) => matches(value, where)) : rows;
  };
  // Redis keeps no order: the keys (small) are listed and sorted, and values are read a batch at a
  // time from the first until the page is full, so a burst's records are never all in memory.
  const firstPage = async (prefix: string, where: Where | undefined, page: ScanPage) => {
    const start = `${NAMESPACE}:${prefix}${page.within ?? ''}`;
    const keys = (await keysOf(`${escapeGlob(start)}*`)).sort();
    const out: [string, unknown][] = [];
    for (let i = 0; i < keys.length && out.length < page.limit; i += BATCH) {
      for (const row of await valuesOf(keys.slice(i, i + BATCH), prefix)) {
        if (where && !matches(row[1], where)) continue;
        if (out.length < page.limit) out.push(row);
      }
    }
    return out;
  };
  // A script runs alone on the server: read, compare and write with nothing in between.
  const swap = async (key: string, text: string, expected: number) =>
    (await client.eval(SWAP_SCRIPT, { keys: [`${NAMESPACE}:${key}`], arguments: [text, String(expected)] })) === 1;
  const swapMany = async (entries: { key: string; text: string; expected: number }[]) => {
    if (entries.length === 0) return [];
    const landed = (await client.eval(SWAP_MANY_SCRIPT, {
      keys: entries.map((e) => `${NAMESPACE}:${e.key}`),
      arguments: entries.flatMap((e) => [e.text, String(e.expected)]),
    })) as number[];
    return landed.map((x) => x === 1);
  };
  const insert = async (key: string, text: string) => (await client.set(`${NAMESPACE}:${key}`, text, { condition: 'NX' })) === 'OK';
  const insertMany = async (entries: { key: string; text: string }[]) => {
    if (entries.length === 0) return;
    const batch = client.multi();
    for (const e of entries) batch.set(`${NAMESPACE}:${e.key}`, e.text, { condition: 'NX' });
    await batch.exec();
  };
  const fencedPut = async (key: string, text: string, lease: string, token: number) =>
    (await client.eval(FENCED_PUT_SCRIPT, { keys: [`${NAMESPACE}:${key}`, `${NAMESPACE}:${lease}`], arguments: [text, String(token)] })) ===
    1;
  return {
    keyv,
    scan,
    groups,
    swap,
    swapMany,
    insert,
    insertMany,
    fencedPut,
    close: async () => void (client.isOpen && (await client.close())),
  };
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
