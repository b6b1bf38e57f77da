/**
 * The keys a cluster uses for shared accounts, all from the relay identity every relay holds: the Ed25519
 * pair signs and verifies account records, and an AES-256-GCM key derived from the private key (HKDF,
 * its own label, apart from the ticket key) seals each argon2id hash, so Redis never holds a readable
 * hash to guess passwords against offline.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { BurrowError } from '../../shared/errors.js';

const NONCE = 12;
const TAG = 16;

export class AccountKeys {
  readonly #sealKey: Buffer;

  constructor(readonly privateKey: KeyObject, readonly publicKey: KeyObject) {
    const d = privateKey.export({ format: 'jwk' }).d;
    if (typeof d !== 'string') throw new BurrowError('ERR_CONFIG', 'relay identity key has no private part');
    this.#sealKey = Buffer.from(hkdfSync('sha256', Buffer.from(d, 'base64url'), Buffer.from('burrow cluster v1'), Buffer.from('account hash'), 32));
  }

  /** Seals `hash` for account `name` (the name is authenticated too): base64url of nonce, ciphertext, tag. */
  sealHash(name: string, hash: string): string {
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', this.#sealKey, nonce);
    cipher.setAAD(Buffer.from(`burrow account hash\0${name}`));
    return Buffer.concat([nonce, cipher.update(hash, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64url');
  }

  /** The hash, or undefined if `sealed` was not sealed by a relay of this cluster for `name`. */
  openHash(name: string, sealed: string): string | undefined {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length <= NONCE + TAG) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', this.#sealKey, raw.subarray(0, NONCE));
    decipher.setAAD(Buffer.from(`burrow account hash\0${name}`));
    decipher.setAuthTag(raw.subarray(raw.length - TAG));
    try {
      return Buffer.concat([decipher.update(raw.subarray(NONCE, raw.length - TAG)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
