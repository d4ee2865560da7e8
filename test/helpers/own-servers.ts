// Servers a test owns alone, so it may kill them: a Redis on a free loopback port, and a PostgreSQL
// cluster of its own (pg_createcluster, as root: the CI's case). The shared servers of
// test-servers.ts are never stopped, since other test files use them at the same time.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function listening(port: number, probe: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await probe()) return;
    await sleep(50);
  }
  throw new Error(`${what} on port ${port} did not answer within 10 s`);
}

/** A Redis of the test's own; `persist`: append-only file, fsync'd on every write (what the README recommends for the queue). */
export class OwnRedis {
  readonly url: string;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly persist: boolean,
  ) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start(dir: string, options: { persist: boolean }): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort(), dir, options.persist);
    await redis.start();
    return redis;
  }

  private get pidFile() {
    return `${this.dir}/redis-${this.port}.pid`;
  }

  async start(): Promise<void> {
    const persistence = this.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    execFileSync('redis-server', [
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--save',
      '',
      ...persistence,
      '--dir',
      this.dir,
      '--pidfile',
      this.pidFile,
    ]);
    await listening(
      this.port,
      async () => spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG',
      'Redis',
    );
  }

  /** kill -9: no shutdown, no save. */
  async kill(): Promise<void> {
    const pid = Number(readFileSync(this.pidFile, 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    while (spawnSync('kill', ['-0', String(pid)]).status === 0) await sleep(10);
  }

  async stop(): Promise<void> {
    await this.kill().catch(() => undefined);
  }
}

/** A PostgreSQL cluster of the test's own with the test role and a database, or a reason it cannot be made here. */
export class OwnPostgres {
  readonly url: string;
  private constructor(
    private readonly version: string,
    private readonly name: string,
    readonly port: number,
  ) {
    this.url = `postgresql://credport:credport@127.0.0.1:${port}/credport_faults`;
  }

  static async create(): Promise<OwnPostgres> {
    const version = readdirSync('/usr/lib/postgresql').sort().at(-1);
    if (!version || spawnSync('sh', ['-c', 'command -v pg_createcluster']).status !== 0)
      throw new Error('PostgreSQL is not installed: apt-get install -y postgresql');
    const db = new OwnPostgres(version, `faults${process.pid}`, await freePort());
    execFileSync('pg_createcluster', [version, db.name, '--port', String(db.port), '--start'], { stdio: 'ignore' });
    const sql = "CREATE ROLE credport LOGIN PASSWORD 'credport' CREATEDB";
    execFileSync('su', ['postgres', '-c', `psql -q -p ${db.port} -c "${sql}" -c "CREATE DATABASE credport_faults OWNER credport"`], {
      stdio: 'ignore',
    });
    await db.waitUntilUp();
    return db;
  }

  private async waitUntilUp(): Promise<void> {
    await listening(
      this.port,
      async () => {
        const client = new pg.Client({ connectionString: this.url });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.end();
          return true;
        } catch {
          await client.end().catch(() => undefined);
          return false;
        }
      },
      'PostgreSQL',
    );
  }

  /** Stopped as by a crash (immediate mode): connections cut, nothing flushed politely. */
  stopNow(): void {
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', this.version, this.name, 'stop', '-m', 'immediate'], { stdio: 'ignore' });
  }

  async start(): Promise<void> {
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', this.version, this.name, 'start'], { stdio: 'ignore' });
    await this.waitUntilUp();
  }

  drop(): void {
    spawnSync('pg_dropcluster', [this.version, this.name, '--stop'], { stdio: 'ignore' });
  }
}

/** CPU seconds a process has used (user + system), from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
