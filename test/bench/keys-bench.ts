// Key rotation figures for npm run bench: re-sealing every record of a 10,000-credential store under
// a new master key (the store in use: read, re-seal, compare-and-set writes, a final check pass),
// beside a loop that only decrypts and encrypts the same records in memory.
import { join } from 'node:path';
import { associatedData } from '../../src/credentials/credential-record.js';
import { openCredport } from '../../src/open-credport.js';
import { CredentialRecords } from '../../src/store/credential-records.js';
import { keyId, type MasterKey } from '../../src/keys/master-key.js';
import { openKeyv } from '../../src/store/open-keyv.js';
import { Sealer } from '../../src/keys/sealer.js';
import { randomMasterKey } from '../helpers/temp-home.js';
import { ensurePostgres, ensureRedis, freshPostgresUri, freshRedisUri } from '../helpers/test-servers.js';

const asKey = (text: string): MasterKey => ({ key: Buffer.from(text, 'base64'), kid: keyId(Buffer.from(text, 'base64')), source: 'env' });

export interface KeysRow {
  store: string;
  rotateMs: number;
  loopMs: number;
  ratio: number;
}

export async function keysBench(home: string, store: 'sqlite' | 'postgres' | 'redis', total: number, rounds: number): Promise<KeysRow> {
  if (store === 'postgres') await ensurePostgres();
  if (store === 'redis') await ensureRedis();
  const uri =
    store === 'postgres'
      ? await freshPostgresUri()
      : store === 'redis'
        ? await freshRedisUri()
        : `sqlite://${join(home, 'credport.sqlite')}`;
  const keys = [randomMasterKey()];
  const filling = await openCredport({ home, storeUri: uri, masterKey: keys[0], env: {} });
  for (let i = 0; i < total; i++) {
    await filling.credentials.create({
      connector: 'front',
      values: { name: `Front ${i}`, description: 'bench', apiKey: `front_token_${i}_abcdefghijklmnop` },
      verify: false,
    });
  }
  await filling.close();
  const rotations: number[] = [];
  const loops: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const [from, to] = [keys.at(-1)!, randomMasterKey()];
    keys.push(to);
    // The baseline: the same records, opened under the current key and sealed under the next, in memory.
    const opened = await openKeyv(uri);
    const records = await new CredentialRecords(opened).all();
    await opened.close();
    const sealer = new Sealer(asKey(to), [asKey(from)]);
    let started = performance.now();
    for (const record of records) {
      const data = associatedData(record);
      sealer.seal(sealer.open(record.sealed, data, record.id), data);
    }
    loops.push(performance.now() - started);
    const credport = await openCredport({ home, storeUri: uri, masterKey: from, nextMasterKey: to, env: {} });
    started = performance.now();
    const result = await credport.keys.rotate();
    rotations.push(performance.now() - started);
    await credport.close();
    if (result.resealed !== total) throw new Error(`rotation re-sealed ${result.resealed} of ${total}`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratios = rotations.map((r, i) => r / loops[i]!);
  return { store, rotateMs: median(rotations), loopMs: median(loops), ratio: median(ratios) };
}
