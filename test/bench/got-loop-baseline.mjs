// The baseline a sync is measured against: the least code that fetches the same pages with got
// and writes the same JSONL file. No checkpoints, no rate limiting, no origin checks.
// usage: node got-loop-baseline.mjs <first-page-url> <file>   (token in FRONT_TOKEN)
import { appendFile, writeFile } from 'node:fs/promises';
import got from 'got';

const [first, file] = process.argv.slice(2);
const headers = { authorization: `Bearer ${process.env.FRONT_TOKEN}` };
await writeFile(file, '');
let url = first;
while (url) {
  const page = await got(url, { headers }).json();
  await appendFile(file, page._results.map((r) => `${JSON.stringify(r)}\n`).join(''));
  url = page._pagination?.next ?? null;
}
