/**
 * The one receive path of the end-to-end transport, for single streams and tunnels alike, and sans-IO:
 * bytes in, events out. It splits Noise transport messages (E2eFrameDecoder), opens each, checks the
 * responder's verdict when it is still to come, reads the frame stream inside (FrameReader: data
 * pieces, control frames, and the peer's rekey, after which its key is replaced), and knows the
 * authenticated end (an empty message at a frame boundary) from a truncation (a socket end without it).
 * Failures throw a BurrowError with the code the stream or tunnel fails with.
 */
import type { E2eFrameDecoder } from '../crypto/e2e-frame-decoder.js';
import { decodeVerdict } from '../crypto/e2e-frames.js';
import type { CipherState } from '../crypto/noise/cipher-state.js';
import { BurrowError } from '../errors.js';
import { FrameReader } from '../tunnel/tunnel-frame-reader.js';
import type { ControlFrame } from '../tunnel/tunnel-frames.js';

export type TransportEvent =
  | { type: 'data'; channel: number; piece: Buffer }
  | { type: 'control'; frame: ControlFrame }
  /** The peer's authenticated end: nothing more comes. */
  | { type: 'end' };

const EMPTY = Buffer.alloc(0);

export class E2eReceiver {
  readonly #decoder: E2eFrameDecoder;
  readonly #cipher: CipherState;
  readonly #reader: FrameReader;
  /** Events of the message opened last, not yet taken (at most one message's worth). */
  #queue: TransportEvent[] = [];
  #verdictPending: boolean;
  #peerEnded = false;
  /** Rekeys of the peer's direction so far. */
  peerRekeys = 0;

  constructor(decoder: E2eFrameDecoder, cipher: CipherState, opts: { verdictPending: boolean }) {
    this.#decoder = decoder;
    this.#cipher = cipher;
    this.#verdictPending = opts.verdictPending;
    this.#reader = new FrameReader({
      control: (frame) => void this.#queue.push({ type: 'control', frame }),
      data: (channel, piece) => void this.#queue.push({ type: 'data', channel, piece }),
      rekey: () => {
        this.#cipher.rekey();
        this.peerRekeys++;
      },
    });
  }

  get peerEnded(): boolean {
    return this.#peerEnded;
  }

  get verdictPending(): boolean {
    return this.#verdictPending;
  }

  push(chunk: Buffer): void {
    this.#decoder.push(chunk);
  }

  /** The next event, or null until more bytes arrive. Throws what fails the transport. */
  next(): TransportEvent | null {
    for (;;) {
      const queued = this.#queue.shift();
      if (queued) return queued;
      // A message that spans socket reads is opened piece by piece, never joined (a copy of every byte).
      const message = this.#decoder.nextPieces();
      if (message === null) return null;
      if (this.#peerEnded) throw new BurrowError('ERR_PROTOCOL', 'message after the end');
      const plaintext = this.#cipher.decryptPieces(EMPTY, message);
      if (plaintext === null) throw new BurrowError('ERR_DECRYPT', 'e2e transport message');
      if (this.#verdictPending) {
        this.#verdictPending = false;
        const verdict = decodeVerdict(Buffer.concat(plaintext));
        if (!verdict) throw new BurrowError('ERR_E2E_HANDSHAKE_FAILED', 'malformed verdict');
        if (!verdict.ok) throw new BurrowError(verdict.code, 'refused by the server');
        continue;
      }
      if (plaintext.length === 0) {
        // An empty message (no plaintext piece) is the end.
        if (!this.#reader.atBoundary) throw new BurrowError('ERR_STREAM_TRUNCATED', 'ended inside a frame');
        this.#peerEnded = true;
        return { type: 'end' };
      }
      for (let i = 0; i < plaintext.length; i++) this.#reader.push(plaintext[i] as Buffer, i === plaintext.length - 1);
    }
  }

  /** What a socket end before the authenticated end means. */
  truncation(): BurrowError {
    return this.#verdictPending ? new BurrowError('ERR_E2E_HANDSHAKE_FAILED', 'ended before the verdict') : new BurrowError('ERR_STREAM_TRUNCATED');
  }
}
