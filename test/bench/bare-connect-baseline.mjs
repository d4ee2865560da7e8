// Baseline for the connect bench: a bare node:http server doing the least that minting a connect
// session and exchanging its token need, on the store credport uses (keyv on @keyv/sqlite, WAL):
//   POST /api/v1/connect/sessions: the API token checked, the JSON body parsed, 32 random bytes
//     made into a token and hashed (SHA-256), the record written, 201 and JSON.
//   POST /api/v1/connect/exchange: the body parsed, the token hashed, its record read and checked,
//     a bearer made and hashed, the record written back, 200 and JSON.
// No validation, no compare-and-swap, no audit, no framework.
//   node bare-connect-baseline.mjs <sqlite file>   (BENCH_API_TOKEN: the token minting needs)
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';

const [file] = process.argv.slice(2);
const apiToken = process.env.BENCH_API_TOKEN;
const adapter = new KeyvSqlite({ uri: `sqlite://${file}`, busyTimeout: 30_000 });
await adapter.query('PRAGMA journal_mode=WAL');
await adapter.query('PRAGMA synchronous=NORMAL');
const keyv = new Keyv({ store: adapter, namespace: 'credport', serialize: JSON.stringify, deserialize: JSON.parse });
const hash = (secret) => createHash('sha256').update(secret).digest('hex');

async function bodyOf(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString());
}

const send = (res, status, value) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));

async function mint(req, res) {
  if (req.headers.authorization !== `Bearer ${apiToken}`) return send(res, 401, { status: 401 });
  const body = await bodyOf(req);
  const id = `csn_${randomBytes(10).toString('hex')}`;
  const token = `ccs_${id.slice(4)}.${randomBytes(32).toString('base64url')}`;
  const createdAt = new Date();
  const expiresAt = new Date(createdAt.getTime() + 1_800_000).toISOString();
  const record = { id, workspace: 'default', mode: body.mode ?? 'pick', endUser: body.endUser, allowedOrigins: body.allowedOrigins };
  await keyv.set(`connect:${id}`, {
    ...record,
    connectors: ['front'],
    createdAt: createdAt.toISOString(),
    expiresAt,
    tokenHash: hash(token),
  });
  send(res, 201, { id, token, expiresAt, url: `/connect/${id}` });
}

async function exchange(req, res) {
  const { token } = await bodyOf(req);
  const [, tail] = /^ccs_([a-z0-9]+)\./.exec(token) ?? [];
  const record = tail && (await keyv.get(`connect:csn_${tail}`));
  if (!record || record.tokenHash !== hash(token)) return send(res, 401, { status: 401 });
  if (record.openedAt) return send(res, 410, { status: 410 });
  const bearer = `ccb_${tail}.${randomBytes(32).toString('base64url')}`;
  const openedAt = new Date().toISOString();
  await keyv.set(`connect:csn_${tail}`, { ...record, openedAt, bearerHash: hash(bearer) });
  send(res, 200, { bearer, expiresAt: record.expiresAt, session: { id: record.id, mode: record.mode, connectors: record.connectors } });
}

const routes = { '/api/v1/connect/sessions': mint, '/api/v1/connect/exchange': exchange };
const server = createServer((req, res) => {
  const route = req.method === 'POST' ? routes[req.url] : undefined;
  if (!route) return send(res, 404, { status: 404 });
  route(req, res).catch((error) => send(res, 500, { detail: String(error) }));
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` })));
