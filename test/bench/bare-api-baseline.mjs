// Baselines for the API bench: a bare node:http server doing the least each request needs.
//   list <sqlite file>: the raw SQL SELECT of one connector's rows, each parsed and serialised back.
//   verify <provider url>: the same GET /me credport makes, then a 201 with what it answered.
import { createServer, request } from 'node:http';
import KeyvSqlite from '@keyv/sqlite';

const [mode, target] = process.argv.slice(2);
const token = process.env.BENCH_API_TOKEN;
let handler;
if (mode === 'list') {
  const db = new KeyvSqlite({ uri: `sqlite://${target}` });
  handler = async (req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end();
    const connector = new URL(req.url, 'http://x').searchParams.get('connector');
    const rows = await db.query("SELECT value FROM keyv WHERE key LIKE 'credport:credential:%' AND json_extract(value, '$.value.connector') = ?", [connector]);
    const tiles = rows.map((row) => {
      const { sealed, v, ...tile } = JSON.parse(row.value).value;
      return tile;
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tiles));
  };
} else {
  handler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString());
      const me = request(`${target}/me`, { headers: { authorization: `Bearer ${body.values.apiKey}`, accept: 'application/json' } }, (answer) => {
        const parts = [];
        answer.on('data', (c) => parts.push(c));
        answer.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ identity: JSON.parse(Buffer.concat(parts).toString()) })));
      });
      me.end();
    });
  };
}
const server = createServer((req, res) => void handler(req, res));
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` })));
