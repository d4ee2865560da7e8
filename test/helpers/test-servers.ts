// The PostgreSQL and Redis servers the store tests run against: real servers on loopback, started
// here when they are not running (as .ci/run does), never mocked. Override with
// CREDPORT_TEST_POSTGRES_URL (a role that may CREATE DATABASE) and CREDPORT_TEST_REDIS_URL.
import { execFileSync, spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';
import pg from 'pg';

export const POSTGRES_URL = process.env.CREDPORT_TEST_POSTGRES_URL ?? 'postgresql://credport:credport@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.CREDPORT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const HOW =
  'install them with: apt-get install -y postgresql redis-server; then run: npx tsx test/helpers/start-servers.ts ' +
  '(or point CREDPORT_TEST_POSTGRES_URL and CREDPORT_TEST_REDIS_URL at servers of your own)';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

async function waitFor(url: string, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await reachable(url)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not start listening on ${url} within 10 s; ${HOW}`);
}

/** Starts the image's PostgreSQL cluster if nothing listens, and makes the test role. */
export async function ensurePostgres(): Promise<void> {
  if (!(await reachable(POSTGRES_URL))) {
    if (process.env.CREDPORT_TEST_POSTGRES_URL) throw new Error(`PostgreSQL at CREDPORT_TEST_POSTGRES_URL does not answer`);
    if (!has('pg_ctlcluster') || !has('pg_lsclusters'))
      throw new Error(`PostgreSQL is not running on 127.0.0.1:5432 and is not installed; ${HOW}`);
    const cluster = execFileSync('pg_lsclusters', ['--no-header']).toString().trim().split('\n')[0]?.split(/\s+/);
    if (!cluster || cluster.length < 2) throw new Error(`PostgreSQL is installed but has no cluster; ${HOW}`);
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster[0]!, cluster[1]!, 'start'], { stdio: 'inherit' });
    await waitFor(POSTGRES_URL, 'PostgreSQL');
  }
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  try {
    await client.connect();
    await client.end();
    return;
  } catch (error) {
    await client.end().catch(() => undefined);
    if (process.env.CREDPORT_TEST_POSTGRES_URL || (error as { code?: string }).code !== '28P01')
      throw new Error(`PostgreSQL refused the test role: ${(error as Error).message}; ${HOW}`);
  }
  // The role is missing: make it as the server's superuser (root in CI, as .ci/run is).
  const sql =
    "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'credport') THEN CREATE ROLE credport LOGIN PASSWORD 'credport' CREATEDB; END IF; END $$;";
  const made = spawnSync('su', ['postgres', '-c', `psql -qc "${sql.replace(/\$/g, '\\$')}"`], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`could not create the role credport in PostgreSQL (${made.stderr.trim()}); ${HOW}`);
}

/** Starts a throwaway Redis on loopback (no persistence) if nothing listens. */
export async function ensureRedis(): Promise<void> {
  if (await reachable(REDIS_URL)) return;
  if (process.env.CREDPORT_TEST_REDIS_URL) throw new Error(`Redis at CREDPORT_TEST_REDIS_URL does not answer`);
  if (!has('redis-server')) throw new Error(`Redis is not running on 127.0.0.1:6379 and is not installed; ${HOW}`);
  const { port } = new URL(REDIS_URL);
  execFileSync('redis-server', [
    '--daemonize',
    'yes',
    '--bind',
    '127.0.0.1',
    '--port',
    port || '6379',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    '/tmp',
    '--pidfile',
    '/tmp/redis-credport-test.pid',
  ]);
  await waitFor(REDIS_URL, 'Redis');
}

// Stryker's test runners each run jest in-band (JEST_WORKER_ID 1 in all of them), so its worker
// id tells them apart too.
const STRYKER_WORKER = process.env.STRYKER_MUTATOR_WORKER;

/** A database of this jest worker's own, emptied: tests in parallel workers never see each other's records. */
export async function freshPostgresUri(): Promise<string> {
  const name = `credport_test_w${process.env.JEST_WORKER_ID ?? '0'}${STRYKER_WORKER === undefined ? '' : `_stryker${Number(STRYKER_WORKER)}`}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0)
      await admin
        .query(`CREATE DATABASE ${name}`)
        .catch((error: { code?: string }) => (error.code === '42P04' ? undefined : Promise.reject(error)));
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const own = new pg.Client({ connectionString: url.toString() });
  await own.connect();
  try {
    await own.query('DROP TABLE IF EXISTS keyv');
  } finally {
    await own.end();
  }
  return url.toString();
}

/** A Redis database number of this jest worker's own (1 to 15), emptied. */
export async function freshRedisUri(): Promise<string> {
  // Databases 1-15; Stryker's runners count down from 15, clear of jest's workers on a machine this size.
  const db =
    STRYKER_WORKER === undefined ? 1 + ((Number(process.env.JEST_WORKER_ID ?? '0') - 1 + 15) % 15) : 15 - (Number(STRYKER_WORKER) % 8);
  const url = `${REDIS_URL.replace(/\/\d*$/, '')}/${db}`;
  const { createClient } = await import('@keyv/redis');
  const client = createClient({ url });
  await client.connect();
  try {
    await client.flushDb();
  } finally {
    await client.close();
  }
  return url;
}
