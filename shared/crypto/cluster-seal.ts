/**
 * AES-256-GCM under a key every relay of a cluster derives from the identity private key they share
 * (HKDF-SHA256, salt "burrow cluster v1", one label per use), so a secret can travel through Redis or
 * a client's hands and only a relay opens it. Sealed form: base64url(nonce(12) || ciphertext || tag(16)).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { BurrowError } from '../errors.js';

const NONCE = 12;
const TAG = 16;

export class ClusterSealKey {
  readonly #key: Buffer;

  constructor(identityPrivateKey: KeyObject, label: string) {
    const d = identityPrivateKey.export({ format: 'jwk' }).d;
    if (typeof d !== 'string') throw new BurrowError('ERR_CONFIG', 'relay identity key has no private part');
    this.#key = Buffer.from(hkdfSync('sha256', Buffer.from(d, 'base64url'), Buffer.from('burrow cluster v1'), Buffer.from(label), 32));
  }

  seal(plaintext: Buffer, aad: string): string {
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    cipher.setAAD(Buffer.from(aad));
    return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]).toString('base64url');
  }

  /** The plaintext, or undefined unless a relay of this cluster sealed exactly this with this `aad`. */
  open(sealed: string, aad: string): Buffer | undefined {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length <= NONCE + TAG) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, NONCE));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(raw.subarray(raw.length - TAG));
    try {
      return Buffer.concat([decipher.update(raw.subarray(NONCE, raw.length - TAG)), decipher.final()]);
    } catch {
      return undefined;
    }
  }
}
