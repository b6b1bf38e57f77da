/**
 * Noise CipherState (spec rev 34, section 5.1) for AESGCM and ChaChaPoly: a key and a message counter. The
 * 96-bit nonce is 4 zero bytes then the counter, big-endian for AES-GCM and little-endian for
 * ChaCha20-Poly1305 (section 12.3, section 12.4). One node:crypto cipher object per message.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { BurrowError } from '../../errors.js';

export type NoiseCipher = 'AESGCM' | 'ChaChaPoly';

export const KEY_LENGTH = 32;
export const TAG_LENGTH = 16;

const TWO_32 = 2 ** 32;

export class CipherState {
  readonly cipher: NoiseCipher;
  #key: Buffer | undefined;
  #n = 0;

  constructor(cipher: NoiseCipher, key?: Buffer) {
    this.cipher = cipher;
    this.initializeKey(key);
  }

  /** InitializeKey(k): sets the key (or empties it) and resets the counter. */
  initializeKey(key: Buffer | undefined): void {
    if (key !== undefined && key.length !== KEY_LENGTH) throw new BurrowError('ERR_INTERNAL', 'cipher key must be 32 bytes');
    this.#key = key === undefined ? undefined : Buffer.from(key);
    this.#n = 0;
  }

  hasKey(): boolean {
    return this.#key !== undefined;
  }

  /** The next nonce counter value (for tests and diagnostics). */
  get nonce(): number {
    return this.#n;
  }

  /** EncryptWithAd: ciphertext || tag, or the plaintext itself while no key is set. */
  encryptWithAd(ad: Buffer, plaintext: Buffer): Buffer {
    if (this.#key === undefined) return plaintext;
    const [ciphertext, tag] = this.encryptToParts(ad, plaintext);
    return Buffer.concat([ciphertext, tag]);
  }

  /**
   * EncryptWithAd without joining ciphertext and tag, so a caller that writes both to a socket copies
   * nothing. Requires a key.
   */
  encryptToParts(ad: Buffer, plaintext: Buffer): [ciphertext: Buffer, tag: Buffer] {
    const parts = this.encryptPieces(ad, [plaintext]);
    const tag = parts.pop() as Buffer;
    return [parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), tag];
  }

  /**
   * EncryptWithAd of the concatenation of `pieces`, without concatenating them: returns the ciphertext
   * pieces (same lengths, same order) and then the tag. Requires a key.
   */
  encryptPieces(ad: Buffer, pieces: readonly Buffer[]): Buffer[] {
    const key = this.#requireKey();
    const nonce = this.#nextNonce();
    const options = { authTagLength: TAG_LENGTH };
    const cipher =
      this.cipher === 'AESGCM'
        ? createCipheriv('aes-256-gcm', key, nonce, options)
        : createCipheriv('chacha20-poly1305', key, nonce, options);
    if (ad.length > 0) {
      const length = pieces.reduce((n, p) => n + p.length, 0);
      cipher.setAAD(ad, { plaintextLength: length });
    }
    const out: Buffer[] = [];
    for (const piece of pieces) if (piece.length > 0) out.push(cipher.update(piece));
    const rest = cipher.final();
    if (rest.length > 0) out.push(rest);
    this.#n += 1;
    out.push(cipher.getAuthTag());
    return out;
  }

  /**
   * DecryptWithAd: the plaintext, or null when authentication fails (the counter then stays put, as
   * the spec requires). Callers map null to the error code of their layer. Without a key the
   * ciphertext is returned as is.
   */
  decryptWithAd(ad: Buffer, ciphertext: Buffer): Buffer | null {
    if (this.#key === undefined) return ciphertext;
    const pieces = this.decryptPieces(ad, [ciphertext]);
    if (pieces === null) return null;
    return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
  }

  /**
   * DecryptWithAd of a ciphertext (body and tag) that lies in several pieces, as a socket delivered it,
   * without joining them: the plaintext pieces in order (none for an empty plaintext), or null when
   * authentication fails (counter unchanged). Nothing is returned before the tag verified. Requires a key.
   */
  decryptPieces(ad: Buffer, pieces: readonly Buffer[]): Buffer[] | null {
    const key = this.#requireKey();
    let total = 0;
    for (const piece of pieces) total += piece.length;
    if (total < TAG_LENGTH) return null;
    const bodyLength = total - TAG_LENGTH;
    const nonce = this.#nextNonce();
    const options = { authTagLength: TAG_LENGTH };
    const decipher =
      this.cipher === 'AESGCM'
        ? createDecipheriv('aes-256-gcm', key, nonce, options)
        : createDecipheriv('chacha20-poly1305', key, nonce, options);
    const body: Buffer[] = [];
    const tag: Buffer[] = [];
    let left = bodyLength;
    for (const piece of pieces) {
      const take = Math.min(piece.length, left);
      if (take > 0) body.push(take === piece.length ? piece : piece.subarray(0, take));
      if (take < piece.length) tag.push(piece.subarray(take));
      left -= take;
    }
    decipher.setAuthTag(tag.length === 1 ? (tag[0] as Buffer) : Buffer.concat(tag));
    if (ad.length > 0) decipher.setAAD(ad, { plaintextLength: bodyLength });
    const out: Buffer[] = body.map((piece) => decipher.update(piece));
    let rest: Buffer;
    try {
      rest = decipher.final();
    } catch {
      return null; // the tag did not verify
    }
    this.#n += 1;
    if (rest.length > 0) out.push(rest);
    return out;
  }

  /**
   * Rekey() (section 4.2, section 11.3): the key becomes the first 32 bytes of ENCRYPT(k, maxnonce, empty ad, 32
   * zero bytes). One-way, so a key taken later does not open what was sealed before; the counter stays.
   */
  rekey(): void {
    const key = this.#requireKey();
    const nonce = Buffer.alloc(12, 0xff);
    nonce.fill(0, 0, 4);
    const options = { authTagLength: TAG_LENGTH };
    const cipher =
      this.cipher === 'AESGCM'
        ? createCipheriv('aes-256-gcm', key, nonce, options)
        : createCipheriv('chacha20-poly1305', key, nonce, options);
    const out = Buffer.concat([cipher.update(Buffer.alloc(KEY_LENGTH)), cipher.final()]);
    this.#key = out.subarray(0, KEY_LENGTH);
  }

  #requireKey(): Buffer {
    if (this.#key === undefined) throw new BurrowError('ERR_INTERNAL', 'cipher state has no key');
    return this.#key;
  }

  #nextNonce(): Buffer {
    // 2^64-1 is reserved by the spec; a JS number counter stops far below it.
    if (this.#n >= Number.MAX_SAFE_INTEGER) throw new BurrowError('ERR_INTERNAL', 'nonce exhausted');
    return this.#nonceBytes(this.#n);
  }

  #nonceBytes(n: number): Buffer {
    const nonce = Buffer.alloc(12);
    const high = Math.floor(n / TWO_32);
    const low = n % TWO_32;
    if (this.cipher === 'AESGCM') {
      nonce.writeUInt32BE(high, 4);
      nonce.writeUInt32BE(low, 8);
    } else {
      nonce.writeUInt32LE(low, 4);
      nonce.writeUInt32LE(high, 8);
    }
    return nonce;
  }
}
