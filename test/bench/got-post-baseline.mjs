// The baseline a write sync is measured against: the least code that posts the same bodies with got,
// one after another. No validation, no ledger, no checkpoint.
// usage: node got-post-baseline.mjs <url> <jsonl-file>   (token in FRONT_TOKEN)
import { readFile } from 'node:fs/promises';
import got from 'got';

const [url, file] = process.argv.slice(2);
const headers = { authorization: `Bearer ${process.env.FRONT_TOKEN}` };
const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
for (const line of lines) await got.post(url, { headers, json: JSON.parse(line) });
