/**
 * Noise SymmetricState (spec rev 34, §5.2) with SHA-256: the chaining key, the handshake hash and a
 * CipherState. HKDF is the spec's HMAC-SHA256 construction (§4.3) with 2 or 3 outputs.
 */
import { createHash, createHmac } from 'node:crypto';
import { BurrowError } from '../../errors.js';
import { CipherState, type NoiseCipher } from './cipher-state.js';

export const HASH_LENGTH = 32;

const EMPTY = Buffer.alloc(0);

export function sha256(...parts: Buffer[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function hmac(key: Buffer, ...parts: Buffer[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** HKDF(chaining_key, input_key_material, num_outputs) as §4.3 defines it. */
export function hkdf(chainingKey: Buffer, ikm: Buffer, outputs: 2 | 3): Buffer[] {
  const tempKey = hmac(chainingKey, ikm);
  const out1 = hmac(tempKey, Buffer.of(1));
  const out2 = hmac(tempKey, out1, Buffer.of(2));
  if (outputs === 2) return [out1, out2];
  return [out1, out2, hmac(tempKey, out2, Buffer.of(3))];
}

function pick(outputs: Buffer[], index: number): Buffer {
  const out = outputs[index];
  if (out === undefined) throw new BurrowError('ERR_INTERNAL', 'hkdf output missing');
  return out;
}

export class SymmetricState {
  readonly cipherState: CipherState;
  #ck: Buffer;
  #h: Buffer;

  /** InitializeSymmetric(protocol_name). */
  constructor(protocolName: string, cipher: NoiseCipher) {
    const name = Buffer.from(protocolName, 'ascii');
    if (name.length <= HASH_LENGTH) {
      this.#h = Buffer.alloc(HASH_LENGTH);
      name.copy(this.#h);
    } else {
      this.#h = sha256(name);
    }
    this.#ck = this.#h;
    this.cipherState = new CipherState(cipher);
  }

  /** The handshake hash h (a copy). */
  get handshakeHash(): Buffer {
    return Buffer.from(this.#h);
  }

  mixKey(ikm: Buffer): void {
    const outputs = hkdf(this.#ck, ikm, 2);
    this.#ck = pick(outputs, 0);
    this.cipherState.initializeKey(pick(outputs, 1));
  }

  mixHash(data: Buffer): void {
    this.#h = sha256(this.#h, data);
  }

  mixKeyAndHash(ikm: Buffer): void {
    const outputs = hkdf(this.#ck, ikm, 3);
    this.#ck = pick(outputs, 0);
    this.mixHash(pick(outputs, 1));
    this.cipherState.initializeKey(pick(outputs, 2));
  }

  encryptAndHash(plaintext: Buffer): Buffer {
    const ciphertext = this.cipherState.encryptWithAd(this.#h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** DecryptAndHash: the plaintext, or null when authentication fails (h is then left unchanged). */
  decryptAndHash(ciphertext: Buffer): Buffer | null {
    const plaintext = this.cipherState.decryptWithAd(this.#h, ciphertext);
    if (plaintext === null) return null;
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** Split(): the two transport CipherStates, initiator-to-responder first. */
  split(): [CipherState, CipherState] {
    const outputs = hkdf(this.#ck, EMPTY, 2);
    const cipher = this.cipherState.cipher;
    return [new CipherState(cipher, pick(outputs, 0)), new CipherState(cipher, pick(outputs, 1))];
  }
}
