/**
 * The end-to-end channel once the handshake is done: a Duplex over a connected byte stream. Writes are
 * sealed into transport frames of at most 65519 plaintext bytes; frames read are opened and pushed.
 * An end of stream is an authenticated empty frame, so a peer (or a relay in the middle) cannot cut
 * the stream short unnoticed: a socket end without it is ERR_STREAM_TRUNCATED. Half-close works both
 * ways. Backpressure is kept in both directions: the socket is paused while the reader is full, and a
 * write calls back only once the socket has accepted its frames.
 */
import { Duplex } from 'node:stream';
import { BurrowError } from '../errors.js';
import { E2eFrameDecoder } from './e2e-frame-decoder.js';
import { decodeVerdict, e2eHeader, slicePlaintexts, TRANSPORT_LIMITS } from './e2e-frames.js';
import { TAG_LENGTH, type CipherState } from './noise/cipher-state.js';

type WriteCallback = (error?: Error | null) => void;

const EMPTY = Buffer.alloc(0);
const HIGH_WATER_MARK = 256 * 1024;

export class SecureDuplex extends Duplex {
  readonly #socket: Duplex;
  readonly #decoder: E2eFrameDecoder;
  readonly #send: CipherState;
  readonly #recv: CipherState;
  #wantData = false; // the reader asked for data and has not refused a push since
  #peerEnded = false; // the authenticated end-of-stream frame arrived
  #socketEnded = false;
  #finalDone = false; // our end-of-stream frame is written and the socket's write side is ended
  #waitingDrain: { plaintexts: Buffer[]; next: number; cb: WriteCallback } | undefined;
  #verdictPending: boolean; // early data: the responder's verdict is the first frame still to come

  /**
   * Takes over `socket`, whose data is read through `decoder` (it may already hold frames). With
   * `verdictPending` the first frame is the responder's verdict: a refusal destroys the stream with its code.
   * `socketEnded`: the socket already emitted 'end' (the peer half-closed during the handshake).
   */
  constructor(socket: Duplex, decoder: E2eFrameDecoder, ciphers: { send: CipherState; recv: CipherState }, opts: { verdictPending?: boolean; socketEnded?: boolean } = {}) {
    super({ allowHalfOpen: true, readableHighWaterMark: HIGH_WATER_MARK, writableHighWaterMark: HIGH_WATER_MARK });
    this.#verdictPending = opts.verdictPending ?? false;
    this.#socketEnded = opts.socketEnded ?? false;
    this.#socket = socket;
    this.#decoder = decoder;
    this.#send = ciphers.send;
    this.#recv = ciphers.recv;
    decoder.limits = TRANSPORT_LIMITS;
    socket.pause();
    socket.on('data', this.#onData);
    socket.on('end', this.#onSocketEnd);
    socket.on('error', this.#onSocketError);
    socket.on('close', this.#onSocketClose);
    socket.on('drain', this.#onDrain);
  }

  override _read(): void {
    this.#wantData = true;
    this.#pump();
    if (this.#wantData) this.#socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: WriteCallback): void {
    this.#seal(slicePlaintexts([chunk]), 0, cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: WriteCallback): void {
    this.#seal(slicePlaintexts(chunks.map((c) => c.chunk)), 0, cb);
  }

  override _final(cb: WriteCallback): void {
    this.#writeFrame(EMPTY);
    this.#socket.end((err?: Error | null) => {
      if (err) {
        cb(new BurrowError('ERR_CONNECTION_CLOSED', 'ending the stream failed', { cause: err }));
        return;
      }
      this.#finalDone = true;
      cb();
    });
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    const waiting = this.#waitingDrain;
    this.#waitingDrain = undefined;
    this.#socket.destroy();
    if (waiting) waiting.cb(err ?? new BurrowError('ERR_CONNECTION_CLOSED'));
    cb(err);
  }

  /** Writes frames until the socket is full; the rest waits for 'drain'. */
  #seal(plaintexts: Buffer[], first: number, cb: WriteCallback): void {
    let next = first;
    let ok = true;
    while (ok && next < plaintexts.length) {
      const plaintext = plaintexts[next] ?? EMPTY;
      next += 1;
      ok = this.#writeFrame(plaintext);
    }
    if (ok) cb();
    else this.#waitingDrain = { plaintexts, next, cb };
  }

  #writeFrame(plaintext: Buffer): boolean {
    const [ciphertext, tag] = this.#send.encryptToParts(EMPTY, plaintext);
    const frame = Buffer.concat([e2eHeader(ciphertext.length + TAG_LENGTH), ciphertext, tag]);
    return this.#socket.write(frame);
  }

  /** Opens complete frames and pushes them while the reader wants more. */
  #pump(): void {
    while (this.#wantData && !this.destroyed) {
      let message: Buffer | null;
      try {
        message = this.#decoder.next();
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      if (message === null) break;
      if (this.#peerEnded) {
        this.destroy(new BurrowError('ERR_PROTOCOL', 'frame after the end of stream'));
        return;
      }
      const plaintext = this.#recv.decryptWithAd(EMPTY, message);
      if (plaintext === null) {
        this.destroy(new BurrowError('ERR_DECRYPT', 'e2e transport frame'));
        return;
      }
      if (this.#verdictPending) {
        this.#verdictPending = false;
        const verdict = decodeVerdict(plaintext);
        if (!verdict?.ok) {
          this.destroy(new BurrowError(verdict?.code ?? 'ERR_E2E_HANDSHAKE_FAILED', verdict ? 'refused by the server' : 'malformed verdict'));
          return;
        }
      } else if (plaintext.length === 0) {
        this.#peerEnded = true;
        this.push(null);
      } else if (!this.push(plaintext)) {
        this.#wantData = false;
        this.#socket.pause();
        return;
      }
    }
    if (this.#socketEnded && !this.#peerEnded && !this.destroyed && this.#wantData) {
      this.destroy(this.#verdictPending ? new BurrowError('ERR_E2E_HANDSHAKE_FAILED', 'ended before the verdict') : new BurrowError('ERR_STREAM_TRUNCATED'));
    }
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#decoder.push(chunk);
    this.#pump();
  };

  readonly #onSocketEnd = (): void => {
    this.#socketEnded = true;
    this.#pump();
  };

  readonly #onSocketError = (err: Error): void => {
    this.destroy(new BurrowError('ERR_CONNECTION_CLOSED', 'e2e socket failed', { cause: err }));
  };

  readonly #onSocketClose = (): void => {
    // Once both directions ended, frames still queued in the decoder are read out by #pump.
    if (this.destroyed || (this.#socketEnded && this.#finalDone)) return;
    this.destroy(new BurrowError('ERR_CONNECTION_CLOSED'));
  };

  readonly #onDrain = (): void => {
    const waiting = this.#waitingDrain;
    if (waiting === undefined) return;
    this.#waitingDrain = undefined;
    this.#seal(waiting.plaintexts, waiting.next, waiting.cb);
  };
}
