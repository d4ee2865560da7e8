import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';
import type { MasterKey } from './master-key.js';

/** A secret at rest: AES-256-GCM, a fresh 96-bit IV per record, the master key's id. */
export interface SealedSecret {
  alg: 'A256GCM';
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

/**
 * Seals secrets under the master key, bound to associated data (the credential id), so a
 * ciphertext copied onto another record fails to open instead of lending it its secret.
 */
export class Sealer {
  // #private: util.inspect, JSON.stringify and a debugger's object dump do not show them.
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly #current: Buffer;
  readonly kid: string;

  constructor(current: MasterKey, previous: readonly MasterKey[] = []) {
    this.#keys = new Map([current, ...previous].map((k) => [k.kid, k.key]));
    this.#current = current.key;
    this.kid = current.kid;
  }

  knows(kid: string): boolean {
    return this.#keys.has(kid);
  }

  seal(plaintext: string, associatedData: string): SealedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#current, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      alg: 'A256GCM',
      kid: this.kid,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ct: ct.toString('base64'),
    };
  }

  /** Throws StoreError: `wrong_master_key` when sealed under a key we do not hold, `corrupt_record` when it fails to authenticate. */
  open(sealed: SealedSecret, associatedData: string, where: string): string {
    const key = this.#keys.get(sealed.kid);
    if (!key) {
      throw new StoreError(
        'wrong_master_key',
        `${where} was sealed with master key ${sealed.kid}, but the master key in use is ${this.kid}: set CREDPORT_MASTER_KEY (or ` +
          `the key file) to the key this store was created with`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'), { authTagLength: 16 });
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new StoreError(
        'corrupt_record',
        `${where} is damaged: its sealed secret does not authenticate (altered, truncated or moved from another record)`,
      );
    }
  }
}
