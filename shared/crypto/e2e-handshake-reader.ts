/**
 * Reads the end-to-end handshake messages off a connected byte stream. It owns the socket's listeners
 * until the handshake is over, then hands the socket and its decoder (with any frames that arrived
 * behind the handshake) to the SecureDuplex. Between reads the socket is paused, so nothing is
 * buffered while the responder decides whether to accept.
 */
import type { Duplex } from 'node:stream';
import { BurrowError } from '../errors.js';
import { E2eFrameDecoder } from './e2e-frame-decoder.js';
import { HANDSHAKE_LIMITS, TRANSPORT_LIMITS } from './e2e-frames.js';
import type { CipherState } from './noise/cipher-state.js';
import { SecureDuplex, type SecureDuplexOptions } from './secure-duplex.js';

interface Waiter {
  resolve: (message: Buffer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class E2eHandshakeReader {
  readonly #socket: Duplex;
  readonly #decoder = new E2eFrameDecoder(HANDSHAKE_LIMITS);
  #waiter: Waiter | undefined;
  #failure: Error | undefined;
  #ended = false; // the peer half-closed; frames it sent before that are still read

  /** `leftover`: bytes read off the socket before the handshake began; they come first. */
  constructor(socket: Duplex, leftover?: Buffer) {
    this.#socket = socket;
    if (leftover) this.#decoder.push(leftover);
    socket.pause();
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.on('error', this.#onError);
    if (socket.destroyed) this.#fail(new BurrowError('ERR_E2E_HANDSHAKE_FAILED', 'connection already closed'));
  }

  /** The next handshake message; rejects on end, close, error, a bad frame or after `timeoutMs`. */
  next(timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.#waiter) throw new BurrowError('ERR_INTERNAL', 'handshake read already pending');
      const timer = setTimeout(() => this.#fail(new BurrowError('ERR_TIMEOUT', 'e2e handshake')), timeoutMs);
      this.#waiter = { resolve, reject, timer };
      this.#poll();
      if (this.#waiter) this.#socket.resume();
    });
  }

  /** Throws the failure seen so far (the socket went away while the handshake was in progress). */
  assertAlive(): void {
    if (this.#failure) throw this.#failure;
    if (this.#socket.destroyed) throw new BurrowError('ERR_E2E_HANDSHAKE_FAILED', 'connection closed');
  }

  /** Ends the handshake phase: the socket and everything buffered go to a SecureDuplex. */
  handOver(ciphers: { send: CipherState; recv: CipherState }, opts: Omit<SecureDuplexOptions, 'socketEnded'> = {}): SecureDuplex {
    this.assertAlive();
    const duplex = new SecureDuplex(this.#socket, this.#decoder, ciphers, { ...opts, socketEnded: this.#ended });
    this.release();
    return duplex;
  }

  /**
   * Ends the handshake phase for a caller that frames the transport itself (the tunnel): returns the
   * decoder, set to transport limits, with any frames that arrived behind the handshake.
   */
  handOverRaw(): { decoder: E2eFrameDecoder; socketEnded: boolean } {
    this.assertAlive();
    this.release();
    this.#decoder.limits = TRANSPORT_LIMITS;
    return { decoder: this.#decoder, socketEnded: this.#ended };
  }

  /** Detaches from the socket; a socket error after this is the new owner's (or nobody's) concern. */
  release(): void {
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onClose);
    this.#socket.off('error', this.#onError);
    if (this.#waiter) this.#settle()?.reject(new BurrowError('ERR_INTERNAL', 'handshake reader released'));
  }

  #poll(): void {
    if (this.#waiter === undefined) return;
    if (this.#failure) {
      this.#settle()?.reject(this.#failure);
      return;
    }
    let message: Buffer | null;
    try {
      message = this.#decoder.next();
    } catch (err) {
      this.#fail(err as Error);
      return;
    }
    if (message === null) {
      if (this.#ended) this.#fail(new BurrowError('ERR_E2E_HANDSHAKE_FAILED', 'connection ended during the handshake'));
      return;
    }
    this.#socket.pause();
    this.#settle()?.resolve(message);
  }

  #settle(): Waiter | undefined {
    const waiter = this.#waiter;
    if (waiter) clearTimeout(waiter.timer);
    this.#waiter = undefined;
    return waiter;
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    this.#settle()?.reject(this.#failure);
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#decoder.push(chunk);
    this.#poll();
  };

  /**
   * A paused socket with nothing buffered still emits 'end', so a peer that sent its handshake, its
   * early data and a half-close all at once ends here before we read them: only a read that finds no
   * complete message after the end fails.
   */
  readonly #onEnd = (): void => {
    this.#ended = true;
    this.#poll();
  };

  readonly #onClose = (): void => {
    this.#fail(new BurrowError('ERR_E2E_HANDSHAKE_FAILED', 'connection closed during the handshake'));
  };

  readonly #onError = (err: Error): void => {
    this.#fail(new BurrowError('ERR_E2E_HANDSHAKE_FAILED', 'connection failed during the handshake', { cause: err }));
  };
}
