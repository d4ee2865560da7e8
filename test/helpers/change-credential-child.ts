// A separate process changing one credential many times at once, for the lost-update tests:
// reads its job as JSON on stdin (tokens never on a command line), prints one result a call.
import { openCredport } from '../../src/open-credport.js';

interface Job {
  home: string;
  storeUri?: string;
  masterKey: string;
  id: string;
  calls: ({ op: 'update'; name: string } | { op: 'test' } | { op: 'rotate'; token: string })[];
}

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const job = JSON.parse(Buffer.concat(chunks).toString()) as Job;
const credport = await openCredport({
  home: job.home,
  storeUri: job.storeUri,
  masterKey: job.masterKey,
  env: { CREDPORT_HTTP_RETRIES: '0' },
});
const results = await Promise.all(
  job.calls.map(async (call, index) => {
    try {
      const tile =
        call.op === 'update'
          ? await credport.credentials.update(job.id, { name: call.name })
          : call.op === 'rotate'
            ? await credport.credentials.rotate(job.id, { secrets: { apiKey: call.token } })
            : await credport.credentials.test(job.id);
      return { index, op: call.op, ok: true, revision: tile.revision, name: tile.name, hint: tile.secretHint };
    } catch (error) {
      return { index, op: call.op, ok: false, code: (error as { code?: string }).code, message: (error as Error).message };
    }
  }),
);
await credport.close();
process.stdout.write(JSON.stringify(results));
