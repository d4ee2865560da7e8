import { randomBytes } from 'node:crypto';
import { associatedData, type CredentialRecord } from '../../src/credentials/credential-record.js';
import { openCredport } from '../../src/open-credport.js';
import { CredentialRecords } from '../../src/store/credential-records.js';
import { loadMasterKeys } from '../../src/keys/master-key.js';
import { openKeyv } from '../../src/store/open-keyv.js';
import { Sealer } from '../../src/keys/sealer.js';
import { resolveStoreLocation } from '../../src/store/store-location.js';
import { fakeToken } from './temp-home.js';

// Records a store step: keyv's setMany is one INSERT on PostgreSQL, one statement a record on SQLite.
const CHUNK = 5_000;

/**
 * `n` Front credentials, sealed under the store's key, written in bulk: `n` credentials.create calls
 * would take minutes. The first is made by the product (credentials.create) and is the template: each
 * other is that record with its own id, name, secret and hint, sealed as create seals (the same
 * secret JSON, bound to the same associated data), and written through the store's own keyv under
 * the key a put uses. Returns every credential's id with its token.
 */
export async function fillSealed(options: { home: string; storeUri?: string; n: number }): Promise<Map<string, string>> {
  const { home, storeUri, n } = options;
  const tokens = new Map<string, string>();
  const credport = await openCredport({ home, env: {}, ...(storeUri ? { storeUri } : {}) });
  const first = fakeToken('k0');
  const made = await credport.credentials.create({ connector: 'front', values: { name: 'C0', apiKey: first }, verify: false });
  await credport.close();
  tokens.set(made.id, first);

  const location = resolveStoreLocation({ home, storeUri, env: {} });
  const [key, ...more] = await loadMasterKeys({ keyFile: location.keyFile });
  if (!key || more.length > 0) throw new Error('fillSealed: expected the store to have one key file and no rotation prepared');
  const sealer = new Sealer(key);
  const opened = await openKeyv(location.uri);
  try {
    const template = await new CredentialRecords(opened).get(made.id);
    if (!template) throw new Error(`fillSealed: the template ${made.id} was not written`);
    // What create sealed is what the copies seal: if the product's secret JSON or binding changes, this says so.
    const plain = sealer.open(template.sealed, associatedData(template), made.id);
    if (plain !== JSON.stringify({ apiKey: first }))
      throw new Error(`fillSealed: create sealed a secret of another shape (${plain.length} characters); update this helper`);
    const { sealed: _s, secretHint: _h, ...rest } = template;
    for (let from = 1; from < n; from += CHUNK) {
      const chunk: { key: string; value: CredentialRecord }[] = [];
      for (let i = from; i < Math.min(n, from + CHUNK); i++) {
        const token = fakeToken(`k${i}`);
        const record: CredentialRecord = { ...rest, id: credentialId(), name: `C${i}` } as CredentialRecord;
        record.sealed = sealer.seal(JSON.stringify({ apiKey: token }), associatedData(record));
        record.secretHint = token.slice(-4);
        tokens.set(record.id, token);
        chunk.push({ key: `credential:${record.id}`, value: record });
      }
      await opened.keyv.setMany(chunk);
    }
  } finally {
    await opened.close();
  }
  return tokens;
}

/** The product's id shape (credential-service.ts): cred_ and 80 random bits in base32. */
function credentialId(): string {
  let bits = 0n;
  for (const byte of randomBytes(10)) bits = (bits << 8n) | BigInt(byte);
  return `cred_${bits.toString(32).padStart(16, '0')}`;
}

/**
 * Reads every credential record in the store and opens its secret with the key file alone (the
 * old key is gone after a rotation): the ids of records missing, damaged, under another key, or
 * not holding the token they were filled with.
 */
export async function unopenable(options: {
  home: string;
  storeUri?: string;
  tokens: Map<string, string>;
}): Promise<{ opened: number; failed: string[] }> {
  const location = resolveStoreLocation({ home: options.home, storeUri: options.storeUri, env: {} });
  const keys = await loadMasterKeys({ keyFile: location.keyFile });
  if (keys.length !== 1) throw new Error(`expected the key file alone, found ${keys.length} keys`);
  const sealer = new Sealer(keys[0]!);
  const store = await openKeyv(location.uri);
  const failed: string[] = [];
  let opened = 0;
  try {
    const seen = new Set<string>();
    for (const [id, record] of await new CredentialRecords(store).entries()) {
      seen.add(id);
      try {
        if (record instanceof Error) throw record;
        const plain = sealer.open(record.sealed, associatedData(record), id);
        if (plain !== JSON.stringify({ apiKey: options.tokens.get(id) })) throw new Error('another secret');
        opened += 1;
      } catch (error) {
        failed.push(`${id}: ${(error as Error).message}`);
      }
    }
    for (const id of options.tokens.keys()) if (!seen.has(id)) failed.push(`${id}: missing`);
  } finally {
    await store.close();
  }
  return { opened, failed };
}
