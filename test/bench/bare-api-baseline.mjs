// Baselines for the API bench: a bare node:http server doing the least each request needs.
//   list <sqlite file>: the raw SQL SELECT of one connector's rows, each parsed and serialised back.
//   verify <provider url>: the same GET /me credport makes, then a 201 with what it answered.
//   verify-got-store <provider url> <sqlite file>: the same, with the packages credport must use:
//     GET /me through got, then the record saved through keyv on @keyv/sqlite (WAL), then a 201.
//     No validation, no sealing, no framework: the floor of POST /api/v1/credentials on them.
import { randomBytes } from 'node:crypto';
import { createServer, request } from 'node:http';
import KeyvSqlite from '@keyv/sqlite';
import got from 'got';
import Keyv from 'keyv';

const [mode, target] = process.argv.slice(2);
const token = process.env.BENCH_API_TOKEN;
let handler;
if (mode === 'list') {
  const db = new KeyvSqlite({ uri: `sqlite://${target}` });
  handler = async (req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end();
    const query = new URL(req.url, 'http://x').searchParams;
    // A page as credport answers one: at most `limit` rows (the least a paged listing can do is ask SQLite for them).
    const rows = await db.query(
      "SELECT value FROM keyv WHERE key LIKE 'credport:credential:%' AND json_extract(value, '$.value.connector') = ? LIMIT ?",
      [query.get('connector'), Number(query.get('limit') ?? -1)],
    );
    const tiles = rows.map((row) => {
      const { sealed, v, ...tile } = JSON.parse(row.value).value;
      return tile;
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tiles));
  };
} else if (mode === 'verify-got-store') {
  const adapter = new KeyvSqlite({ uri: `sqlite://${process.argv[4]}`, busyTimeout: 30_000 });
  await adapter.query('PRAGMA journal_mode=WAL');
  await adapter.query('PRAGMA synchronous=NORMAL');
  const keyv = new Keyv({ store: adapter, namespace: 'credport', serialize: JSON.stringify, deserialize: JSON.parse });
  const client = got.extend({ retry: { limit: 0 }, timeout: { request: 10_000 } });
  handler = async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = JSON.parse(Buffer.concat(chunks).toString());
    const identity = await client(`${target}/me`, {
      headers: { authorization: `Bearer ${body.values.apiKey}`, accept: 'application/json' },
    }).json();
    const id = `cred_${randomBytes(10).toString('hex')}`;
    const at = new Date().toISOString();
    const record = {
      v: 1,
      id,
      connector: body.connector,
      name: body.values.name,
      status: 'verified',
      createdAt: at,
      updatedAt: at,
      identity,
      sealed: {
        kid: 'k',
        iv: randomBytes(12).toString('base64'),
        tag: randomBytes(16).toString('base64'),
        ct: randomBytes(64).toString('base64'),
      },
    };
    await keyv.set(`credential:${id}`, record);
    const { sealed, ...tile } = record;
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(tile));
  };
} else {
  handler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString());
      const me = request(
        `${target}/me`,
        { headers: { authorization: `Bearer ${body.values.apiKey}`, accept: 'application/json' } },
        (answer) => {
          const parts = [];
          answer.on('data', (c) => parts.push(c));
          answer.on('end', () =>
            res
              .writeHead(201, { 'content-type': 'application/json' })
              .end(JSON.stringify({ identity: JSON.parse(Buffer.concat(parts).toString()) })),
          );
        },
      );
      me.end();
    });
  };
}
const server = createServer((req, res) => void handler(req, res));
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` })));
