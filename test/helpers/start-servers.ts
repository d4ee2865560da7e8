// `npx tsx test/helpers/start-servers.ts`: starts (and if need be sets up) the PostgreSQL and
// Redis servers the store suites use, as .ci/run does before the tests.
import { ensurePostgres, ensureRedis } from './test-servers.js';

await ensurePostgres();
await ensureRedis();
console.log('PostgreSQL and Redis are listening on loopback');
