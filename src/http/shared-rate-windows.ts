import type { SharedWindow, SharedWindows } from './shared-window.js';
import { redactUri } from '../text/redact-uri.js';
import { connectRedis, type RedisClient } from '../connections/connect-redis.js';

// The algorithm, the same as the in-process gate's, kept in one Redis hash per credential: a
// countdown of the provider's announced window. An answer's x-ratelimit-remaining sets what is
// left until its reset (within one window the lower count wins: an older answer arriving late
// cannot raise it); every request of any process takes one; at 0 all of them wait for the reset;
// a 429 pauses all of them. Each script runs alone on the server and reads the server's clock,
// so processes on machines with different clocks agree.
const NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";
const TAKE = `${NOW}
local s = redis.call('HMGET', KEYS[1], 'left', 'until', 'paused')
local paused = tonumber(s[3]) or 0
if paused > now then return paused - now end
local left = tonumber(s[1])
local untl = tonumber(s[2]) or 0
if left == nil or now >= untl then return 0 end
if left <= 0 then return untl - now end
redis.call('HINCRBY', KEYS[1], 'left', -1)
return 0`;
const OBSERVE = `${NOW}
local remaining = tonumber(ARGV[1])
local reset = math.min(tonumber(ARGV[2]), now + tonumber(ARGV[4]))
local s = redis.call('HMGET', KEYS[1], 'left', 'until')
local left = tonumber(s[1])
local untl = tonumber(s[2]) or 0
if left ~= nil and now < untl and math.abs(reset - untl) < tonumber(ARGV[3]) then
  if remaining < left then redis.call('HSET', KEYS[1], 'left', remaining) end
else
  redis.call('HSET', KEYS[1], 'left', remaining, 'until', reset)
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) * 2)
return 0`;
const PAUSE = `${NOW}
local untl = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused')) or 0
if untl > paused then redis.call('HSET', KEYS[1], 'paused', untl) end
redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[1]), tonumber(ARGV[2])) * 2)
return 0`;

// Resets within a second of each other name one window (Front sends whole seconds).
const SAME_WINDOW_MS = 1_000;
const MAX_WAIT_MS = 120_000;

class RedisWindow implements SharedWindow {
  constructor(
    private readonly client: RedisClient,
    private readonly key: string,
  ) {}

  async take(): Promise<number> {
    return Number(await this.client.eval(TAKE, { keys: [this.key] }));
  }

  async observe(left: number, resetAt: number): Promise<void> {
    await this.client.eval(OBSERVE, {
      keys: [this.key],
      arguments: [String(Math.floor(left)), String(Math.ceil(resetAt)), String(SAME_WINDOW_MS), String(MAX_WAIT_MS)],
    });
  }

  async pause(ms: number): Promise<void> {
    await this.client.eval(PAUSE, { keys: [this.key], arguments: [String(Math.ceil(ms)), String(MAX_WAIT_MS)] });
  }
}

/** The shared windows of every credential, on the Redis at `url`. */
export async function openRedisWindows(url: string): Promise<SharedWindows> {
  const client = await connectRedis(url, {
    server: `the shared rate limits (CREDPORT_REDIS ${redactUri(url)})`,
    unavailable: 'store_unavailable',
  });
  return {
    for: (credentialId) => new RedisWindow(client, `credport:rate:${credentialId}`),
    close: async () => void (client.isOpen && (await client.close())),
  };
}
