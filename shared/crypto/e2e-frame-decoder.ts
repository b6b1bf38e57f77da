/**
 * Splits the end-to-end byte stream into Noise messages (2-byte big-endian length + message). Chunks
 * are kept in a list and joined only once a whole message is there; a message inside one chunk is a
 * view, not a copy. The length is checked against the current limits as soon as the header is read.
 * `nextPieces` hands a message over as the views of the chunks it lies in, never joined: a 64 KiB
 * message almost always spans two 64 KiB socket reads, and joining copied every byte once more.
 */
import { BurrowError } from '../errors.js';
import { E2E_HEADER_LENGTH, TRANSPORT_LIMITS, type FrameLimits } from './e2e-frames.js';

export class E2eFrameDecoder {
  /** Limits for the next message; the handshake tightens them, the transport relaxes them. */
  limits: FrameLimits;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #length = -1; // length of the message whose header was consumed, or -1 between messages

  constructor(limits: FrameLimits = TRANSPORT_LIMITS) {
    this.limits = limits;
  }

  /** Bytes held that are not yet part of a returned message. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** True when no partial message is held. */
  get atBoundary(): boolean {
    return this.#buffered === 0 && this.#length === -1;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * The next complete message, or null until more bytes arrive. Throws ERR_FRAME_TOO_LARGE or
   * ERR_MALFORMED_FRAME when a header announces a length outside the limits.
   */
  next(): Buffer | null {
    const pieces = this.nextPieces();
    if (pieces === null) return null;
    return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
  }

  /** The next complete message as views of the chunks it spans, in order (never joined), or null; throws as next(). */
  nextPieces(): Buffer[] | null {
    if (this.#length === -1) {
      if (this.#buffered < E2E_HEADER_LENGTH) return null;
      const header = this.#take(E2E_HEADER_LENGTH);
      const length = header.length === 1 ? (header[0] as Buffer).readUInt16BE(0) : Buffer.concat(header).readUInt16BE(0);
      if (length > this.limits.max) throw new BurrowError('ERR_FRAME_TOO_LARGE', `e2e message of ${length} bytes`);
      if (length < this.limits.min) throw new BurrowError('ERR_MALFORMED_FRAME', `e2e message of ${length} bytes`);
      this.#length = length;
    }
    if (this.#buffered < this.#length) return null;
    const message = this.#take(this.#length);
    this.#length = -1;
    return message;
  }

  /** Removes the first `n` buffered bytes and returns them as views of the chunks they lie in. */
  #take(n: number): Buffer[] {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (first === undefined) throw new BurrowError('ERR_INTERNAL', 'decoder underflow');
    if (first.length > n) {
      this.#chunks[0] = first.subarray(n);
      return [first.subarray(0, n)];
    }
    // Spans whole chunks: find them all, then remove them in one splice (no quadratic shifting).
    let whole = 0;
    let covered = 0;
    for (const chunk of this.#chunks) {
      if (covered + chunk.length > n) break;
      covered += chunk.length;
      whole += 1;
      if (covered === n) break;
    }
    const parts = this.#chunks.splice(0, whole);
    if (covered < n) {
      const partial = this.#chunks[0];
      if (partial === undefined) throw new BurrowError('ERR_INTERNAL', 'decoder underflow');
      parts.push(partial.subarray(0, n - covered));
      this.#chunks[0] = partial.subarray(n - covered);
    }
    return parts;
  }
}
