import { mkdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { withAccess } from '../../src/access/access.js';
import { openCredport, type Credport } from '../../src/open-credport.js';
import type { ConnectionLimits } from '../../src/server/connection-limits.js';
import type { ServerOptions } from '../../src/server/create-server.js';
import type { RunSync, SyncJobs } from '../../src/server/sync-jobs.js';
import { API_TOKEN, listenApi } from '../helpers/api-server.js';
import { removeHome, tempHome } from '../helpers/temp-home.js';
import type { JsonBody } from '../helpers/json-body.js';

/**
 * What a tenant (or anyone who can reach the port) could do to `credport serve`, over real loopback
 * HTTP: hold connections with slow requests, follow a link swapped in after saving, name a stream
 * twice, multiply the verification budget with tokens, read the server's paths, keep reading a
 * sync's events with a revoked token.
 */
let home: string;
let credport: Credport;
let jobs: SyncJobs;
let port: number;
let stop: (() => Promise<void>) | undefined;

beforeEach(async () => {
  home = await tempHome();
  credport = await openCredport({ home, env: { CREDPORT_HTTP_RETRIES: '0', CREDPORT_HTTP_TIMEOUT_MS: '2000' } });
});
afterEach(async () => {
  await stop?.();
  stop = undefined;
  await credport.close();
  await removeHome(home);
});

async function serve(options: Partial<ServerOptions> = {}): Promise<void> {
  ({ jobs, port, stop } = await listenApi(credport, { verifyLimit: { max: 3, timeWindow: 60_000 }, ...options }));
}

interface Answer {
  status: number;
  text: string;
  body: JsonBody;
}

async function call(method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, text, body: parsed };
}

/** A token of a workspace, made as that workspace's admin would. */
const tokenOf = (workspace: string, role: 'viewer' | 'editor' | 'admin' = 'admin') =>
  withAccess({ workspace, role: 'admin' }, () => credport.tokens.create({ name: `${workspace} ${role}`, role }));

/** A raw TCP connection: what it received, and when (ms after opening) the server closed it. */
function rawConnection(): { socket: Socket; received: () => string; closed: Promise<number> } {
  const opened = Date.now();
  const socket = connect({ host: '127.0.0.1', port });
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - opened)));
  return { socket, received: () => received, closed };
}

/** Writes one byte every `everyMs` until the socket closes: never idle, never done. */
function trickle(socket: Socket, byte: string, everyMs = 100): void {
  const timer = setInterval(() => (socket.writable ? socket.write(byte) : clearInterval(timer)), everyMs);
  socket.on('close', () => clearInterval(timer));
}

/** Whether a chunked answer (an event stream) has ended, the connection kept alive or not. */
const ended = (received: string) => received.includes('\r\n0\r\n\r\n');

/** Resolves true as soon as `check` holds, false if it still does not after `ms`. */
async function within(ms: number, check: () => boolean): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 50))) if (check()) return true;
  return check();
}

/** Resolves with the time it took, or with 'open' if the connection outlived `ms`. */
const closedWithin = (closed: Promise<number>, ms: number) =>
  Promise.race([closed, new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), ms))]);

const FAST: Partial<ConnectionLimits> = { headersTimeout: 300, requestTimeout: 800, connectionTimeout: 10_000, keepAliveTimeout: 5_000 };

describe('slow and many clients', () => {
  it('cuts a slow body (headers sent, the body a byte at a time) at the request timeout with 408', async () => {
    await serve({ limits: FAST });
    const { socket, received, closed } = rawConnection();
    socket.write(
      `POST /api/v1/credentials HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${API_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
    );
    trickle(socket, ' ');
    const ms = await closedWithin(closed, 4_000);
    socket.destroy();
    expect(ms).not.toBe('open');
    expect(ms).toBeGreaterThanOrEqual(700);
    expect(ms).toBeLessThan(2_500);
    expect(received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('cuts slow headers at the headers timeout, long before the request timeout', async () => {
    await serve({ limits: { ...FAST, requestTimeout: 8_000 } });
    const { socket, received, closed } = rawConnection();
    socket.write(`GET /api/v1/connectors HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
    trickle(socket, 'a');
    const ms = await closedWithin(closed, 4_000);
    socket.destroy();
    expect(ms).not.toBe('open');
    expect(ms).toBeLessThan(1_500);
    expect(received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a connection past the cap as it is accepted, and serves again once one closes', async () => {
    await serve({ limits: { maxConnections: 2 } });
    const held = [rawConnection(), rawConnection()];
    await new Promise((resolve) => setTimeout(resolve, 200));
    const extra = rawConnection();
    expect(await closedWithin(extra.closed, 2_000)).not.toBe('open');
    expect(extra.received()).toBe('');
    // The held ones still work; after one closes a new connection is served.
    held[0]!.socket.write(
      `GET /api/v1/connectors HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${API_TOKEN}\r\nConnection: close\r\n\r\n`,
    );
    await held[0]!.closed;
    expect(held[0]!.received()).toMatch(/^HTTP\/1\.1 200/);
    expect((await call('GET', '/api/v1/connectors', API_TOKEN)).status).toBe(200);
    held[1]!.socket.destroy();
  });

  it("does not cut a sync's event stream: the request timeout ends with the request, and keepalives beat the idle timeout", async () => {
    // A sync that runs until it is cancelled.
    const runSync: RunSync = (_source, _destination, options) =>
      new Promise((_resolve, reject) =>
        options.signal?.addEventListener('abort', () => reject(Object.assign(new Error('cancelled'), { code: 'sync_cancelled' }))),
      );
    await serve({ limits: { headersTimeout: 200, requestTimeout: 300, connectionTimeout: 600, keepAliveTimeout: 300 }, runSync });
    const started = jobs.start({ source: 'src_x', destination: 'dst_x' }, ['tags']);
    const { socket, received, closed } = rawConnection();
    socket.write(
      `GET /api/v1/syncs/${started.id}/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${API_TOKEN}\r\n\r\n`,
    );
    expect(await closedWithin(closed, 2_000)).toBe('open');
    expect(received()).toMatch(/^HTTP\/1\.1 200/);
    expect(received()).toContain(': keepalive');
    jobs.cancel(started.id);
    expect(await closedWithin(closed, 2_000)).not.toBe('open');
  });
});

describe('a revoked token', () => {
  it("ends the event streams it opened within a few seconds; another token's stream goes on", async () => {
    const runSync: RunSync = (_source, _destination, options) =>
      new Promise((_resolve, reject) => options.signal?.addEventListener('abort', () => reject(new Error('cancelled'))));
    await serve({ runSync, streamRecheckMs: 200 });
    const admin = await tokenOf('acme');
    const editor = await withAccess({ workspace: 'acme', role: 'admin' }, () =>
      credport.tokens.create({ name: 'dashboard', role: 'editor' }),
    );
    const started = withAccess({ workspace: 'acme', role: 'editor' }, () =>
      jobs.start({ source: 'src_x', destination: 'dst_x' }, ['tags']),
    );
    const open = (token: string) => {
      const connection = rawConnection();
      connection.socket.write(
        `GET /api/v1/syncs/${started.id}/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
      return connection;
    };
    const revoked = open(editor.token!);
    const kept = open(admin.token!);
    expect(await within(600, () => ended(revoked.received()))).toBe(false);
    expect(revoked.received()).toMatch(/^HTTP\/1\.1 200/);
    expect((await call('DELETE', `/api/v1/tokens/${editor.id}`, admin.token!)).status).toBe(200);
    expect(await within(3_000, () => ended(revoked.received()))).toBe(true);
    expect(await within(600, () => ended(kept.received()))).toBe(false);
    // Reconnecting with it is refused.
    expect((await call('GET', `/api/v1/syncs/${started.id}/events`, editor.token!)).status).toBe(401);
    kept.socket.destroy();
    revoked.socket.destroy();
  });
});

describe('the verification budget', () => {
  const unverified = (i: number) => ({
    connector: 'front',
    verify: false,
    values: { name: `Tile ${i}`, apiKey: 'eyJabc.defghijklmnopqrstuvwxyz0123.0123456789abcdef' },
  });

  it("is one per workspace: a second token of the workspace does not add to it; another workspace's is its own", async () => {
    await serve();
    const first = await tokenOf('acme');
    const second = await tokenOf('acme', 'editor');
    const globex = await tokenOf('globex');
    const statuses: number[] = [];
    for (const [i, token] of [first, second, first, second, first].entries())
      statuses.push((await call('POST', '/api/v1/credentials', token.token!, unverified(i))).status);
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    // A token made after the budget is spent shares it too.
    const third = await tokenOf('acme', 'editor');
    expect((await call('POST', '/api/v1/credentials', third.token!, unverified(9))).status).toBe(429);
    expect((await call('POST', '/api/v1/credentials', globex.token!, unverified(0))).status).toBe(201);
    expect((await call('POST', '/api/v1/credentials', API_TOKEN, unverified(0))).status).toBe(201);
  });
});

describe('streams named twice', () => {
  it('are refused 400 naming the field, when a source is saved and when a sync starts', async () => {
    await serve();
    const folder = join(home, 'in');
    await mkdir(folder);
    await writeFile(join(folder, 'tags.jsonl'), '{"id":"t1"}\n');
    const source = await call('POST', '/api/v1/sources', API_TOKEN, {
      name: 'In',
      connector: 'jsonl',
      path: folder,
      streams: ['tags', 'tags'],
    });
    expect(source.status).toBe(400);
    // Refused by the request schema (uniqueItems), before the service sees it.
    expect(source.body).toMatchObject({
      field: '/streams',
      code: 'invalid_input',
      detail: 'stream "tags" is named more than once in streams; name each stream once',
    });
    const saved = await call('POST', '/api/v1/sources', API_TOKEN, { name: 'In', connector: 'jsonl', path: folder });
    const destination = await call('POST', '/api/v1/destinations', API_TOKEN, { name: 'Out', connector: 'jsonl' });
    const sync = await call('POST', '/api/v1/syncs', API_TOKEN, {
      source: saved.body.id,
      destination: destination.body.id,
      streams: Array(64).fill('tags'),
    });
    expect(sync.status).toBe(400);
    expect(sync.body).toMatchObject({ field: '/streams' });
    // The service refuses it too, for callers that skip the schema (the library, the CLI).
    await expect(credport.syncs.check(saved.body.id, destination.body.id, ['tags', 'tags'])).rejects.toMatchObject({
      field: 'streams',
      message: 'stream "tags" is named more than once in streams; name each stream once',
    });
  });
});

describe("a tenant's JSONL files", () => {
  /** The sync's events, read from its event stream to the end. */
  async function run(
    token: string,
    source: string,
    destination: string,
  ): Promise<{ text: string; last: { event: string; [k: string]: JsonBody } }> {
    const started = await call('POST', '/api/v1/syncs', token, { source, destination });
    expect(started.status).toBe(202);
    const events = await call('GET', `/api/v1/syncs/${started.body.id}/events`, token);
    const job = await call('GET', `/api/v1/syncs/${started.body.id}`, token);
    const data = events.text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)));
    return { text: events.text + job.text, last: data.at(-1) };
  }

  async function tenantSetUp() {
    await serve();
    const token = (await tokenOf('acme', 'editor')).token!;
    const root = join(home, 'workspaces', 'acme');
    await mkdir(join(root, 'in'), { recursive: true });
    await writeFile(join(root, 'in', 'tags.jsonl'), '{"id":"t1"}\nnot json\n{"id":"t2"}\n');
    // What the tenant must never read: a file elsewhere on the server.
    const secret = join(home, 'elsewhere');
    await mkdir(secret);
    await writeFile(join(secret, 'tags.jsonl'), '{"id":"SECRET-RECORD"}\n');
    const source = await call('POST', '/api/v1/sources', token, { name: 'In', connector: 'jsonl', path: 'in' });
    const destination = await call('POST', '/api/v1/destinations', token, { name: 'Out', connector: 'jsonl' });
    expect([source.status, destination.status]).toEqual([201, 201]);
    return {
      token,
      root,
      secret,
      source: source.body.id as string,
      destination: destination.body.id as string,
      out: join(root, 'destinations', destination.body.id),
    };
  }

  it('are shown relative to the workspace folder: saved paths, errors and sync summaries name no server path', async () => {
    const { token, source, destination } = await tenantSetUp();
    const shown = [
      await call('GET', '/api/v1/sources', token),
      await call('GET', `/api/v1/sources/${source}`, token),
      await call('GET', '/api/v1/destinations', token),
      await call('POST', '/api/v1/sources', token, { name: 'Gone', connector: 'jsonl', path: 'missing' }),
      await call('POST', '/api/v1/sources', token, { name: 'Out', connector: 'jsonl', path: '../../elsewhere' }),
    ];
    expect(shown.map((a) => a.status)).toEqual([200, 200, 200, 400, 403]);
    expect(shown[1]!.body.path).toBe('in');
    expect(shown[2]!.body[0].path).toBe(`destinations/${destination}`);
    expect(shown[3]!.body).toMatchObject({ field: '/path', detail: 'no such file or folder: missing' });
    const synced = await run(token, source, destination);
    expect(synced.last).toMatchObject({
      event: 'finished',
      summary: { records: 3, rejected: 1, rejects: `syncs/${source}__${destination}.rejects.jsonl` },
    });
    for (const text of [...shown.map((a) => a.text), synced.text]) expect(text).not.toContain(home);
    // The operator still sees where things are.
    expect((await call('GET', `/api/v1/sources/${source}`, API_TOKEN)).status).toBe(404); // another workspace's
    expect(
      credport.configs.shown(await withAccess({ workspace: 'acme', role: 'editor' }, () => credport.configs.source(source))).path,
    ).toBe(join(home, 'workspaces', 'acme', 'in'));
  });

  it('refuses at sync time a link swapped in after the source was saved, file or folder, reading nothing', async () => {
    const { token, root, secret, source, destination, out } = await tenantSetUp();
    // The file itself becomes a link out of the workspace folder.
    await rm(join(root, 'in', 'tags.jsonl'));
    await symlink(join(secret, 'tags.jsonl'), join(root, 'in', 'tags.jsonl'));
    const file = await run(token, source, destination);
    expect(file.last).toMatchObject({
      event: 'failed',
      message: 'in/tags.jsonl is a symbolic link; JSONL files are read and written only as regular files',
    });
    // The folder becomes a link out of it.
    await rm(join(root, 'in'), { recursive: true });
    await symlink(secret, join(root, 'in'));
    const folder = await run(token, source, destination);
    expect(folder.last).toMatchObject({
      event: 'failed',
      code: 'forbidden',
      message: "in/tags.jsonl leads outside the workspace folder (a symbolic link); a workspace token's JSONL files stay inside it",
    });
    for (const text of [file.text, folder.text]) {
      expect(text).not.toContain('SECRET-RECORD');
      expect(text).not.toContain(home);
    }
    expect((await stat(join(out, 'tags.jsonl'))).size).toBe(0);
    // The destination folder swapped for a link out: nothing is written there.
    await rm(join(root, 'in'));
    await mkdir(join(root, 'in'));
    await writeFile(join(root, 'in', 'tags.jsonl'), '{"id":"t1"}\n');
    await rm(out, { recursive: true });
    await mkdir(join(home, 'sink'));
    await symlink(join(home, 'sink'), out);
    const sink = await run(token, source, destination);
    expect(sink.last).toMatchObject({ event: 'failed', code: 'forbidden' });
    await expect(stat(join(home, 'sink', 'tags.jsonl'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('are written 0600 in folders made 0700, like the rejects file, for a tenant and for the operator', async () => {
    const { token, root, source, destination, out } = await tenantSetUp();
    expect((await run(token, source, destination)).last.event).toBe('finished');
    const mode = async (path: string) => (await stat(path)).mode & 0o777;
    expect(await mode(join(out, 'tags.jsonl'))).toBe(0o600);
    expect(await mode(out)).toBe(0o700);
    expect(await mode(join(root, 'destinations'))).toBe(0o700);
    expect(await mode(join(root, 'syncs', `${source}__${destination}.rejects.jsonl`))).toBe(0o600);
    const operatorSource = await call('POST', '/api/v1/sources', API_TOKEN, { name: 'In', connector: 'jsonl', path: join(root, 'in') });
    const operatorDestination = await call('POST', '/api/v1/destinations', API_TOKEN, { name: 'Out', connector: 'jsonl' });
    expect((await run(API_TOKEN, operatorSource.body.id, operatorDestination.body.id)).last.event).toBe('finished');
    expect(await mode(join(home, 'destinations', operatorDestination.body.id, 'tags.jsonl'))).toBe(0o600);
    expect(await mode(join(home, 'destinations', operatorDestination.body.id))).toBe(0o700);
    expect(await mode(join(home, 'destinations'))).toBe(0o700);
  });
});
