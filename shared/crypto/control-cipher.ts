/**
 * AEAD for control frames after login: AES-256-GCM, one key per direction, the nonce an implicit
 * counter. A replayed, reordered, dropped or altered frame fails to open (ERR_DECRYPT).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { BurrowError } from '../errors.js';

const TAG = 16;

function nonce(counter: bigint): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(counter, 4);
  return n;
}

export class ControlSealer {
  #key: Buffer;
  #counter = 0n;
  constructor(key: Buffer) {
    this.#key = key;
  }
  seal(plaintext: Buffer): Buffer {
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce(this.#counter++));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return body;
  }
}

export class ControlOpener {
  #key: Buffer;
  #counter = 0n;
  constructor(key: Buffer) {
    this.#key = key;
  }
  open(sealed: Buffer): Buffer {
    if (sealed.length < TAG) throw new BurrowError('ERR_DECRYPT', 'sealed frame too short');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, nonce(this.#counter));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    try {
      const plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG)), decipher.final()]);
      this.#counter++;
      return plain;
    } catch (err) {
      throw new BurrowError('ERR_DECRYPT', undefined, { cause: err });
    }
  }
}
