/**
 * A single end-to-end stream once the handshake is done: a Duplex over a connected byte stream, on the
 * same transport as a tunnel (shared/transport/e2e-receiver.ts in, shared/tunnel/tunnel-frame-writer.ts
 * out): what is written goes out as data frames of channel 1, sealed per turn and rekeyed every 10
 * minutes and every GiB; what arrives is opened, checked and pushed. An end of stream is an
 * authenticated empty message, so a peer (or a relay in the middle) cannot cut the stream short
 * unnoticed: a socket end without it is ERR_STREAM_TRUNCATED. Half-close works both ways.
 * Backpressure is kept in both directions: the socket is paused while the reader is full, and a write
 * waits for the socket's drain once the socket is backed up.
 */
import { Duplex } from 'node:stream';
import { BurrowError } from '../errors.js';
import { E2eReceiver } from '../transport/e2e-receiver.js';
import { FrameWriter, type RekeyOptions } from '../tunnel/tunnel-frame-writer.js';
import { FRAME, MAX_DATA } from '../tunnel/tunnel-frames.js';
import type { E2eFrameDecoder } from './e2e-frame-decoder.js';
import { TRANSPORT_LIMITS } from './e2e-frames.js';
import type { CipherState } from './noise/cipher-state.js';

type WriteCallback = (error?: Error | null) => void;

/** The channel id a single stream's data frames carry. */
export const STREAM_CHANNEL = 1;
const HIGH_WATER_MARK = 256 * 1024;

export interface SecureDuplexOptions {
  /** Early data: the responder's verdict is the first message still to come; a refusal destroys the stream with its code. */
  verdictPending?: boolean;
  /** The socket already emitted 'end' (the peer half-closed during the handshake). */
  socketEnded?: boolean;
  rekey?: RekeyOptions;
  /**
   * The handshake left the socket corked with its last message in it (the initiator's confirm): at the
   * end of this turn what was written to the stream meanwhile is sealed behind it and the socket is
   * uncorked, so the confirm and the first data leave in one write (one segment, one read at the peer).
   */
  corked?: boolean;
}

export class SecureDuplex extends Duplex {
  readonly #socket: Duplex;
  readonly #receiver: E2eReceiver;
  readonly #writer: FrameWriter;
  #wantData = false; // the reader asked for data and has not refused a push since
  #socketEnded = false;
  #finalDone = false; // our end-of-stream message is written and the socket's write side is ended
  #congested = false; // a flush found the socket backed up: writes wait for its drain
  #waitingDrain: WriteCallback | undefined;

  /** Takes over `socket`, whose data is read through `decoder` (it may already hold messages). */
  constructor(socket: Duplex, decoder: E2eFrameDecoder, ciphers: { send: CipherState; recv: CipherState }, opts: SecureDuplexOptions = {}) {
    super({ allowHalfOpen: true, readableHighWaterMark: HIGH_WATER_MARK, writableHighWaterMark: HIGH_WATER_MARK });
    this.#socketEnded = opts.socketEnded ?? false;
    this.#socket = socket;
    decoder.limits = TRANSPORT_LIMITS;
    this.#receiver = new E2eReceiver(decoder, ciphers.recv, { verdictPending: opts.verdictPending ?? false });
    this.#writer = new FrameWriter(socket, ciphers.send, (ok) => {
      if (!ok) this.#congested = true;
    }, opts.rekey);
    socket.pause();
    socket.on('data', this.#onData);
    socket.on('end', this.#onSocketEnd);
    socket.on('error', this.#onSocketError);
    socket.on('close', this.#onSocketClose);
    socket.on('drain', this.#onDrain);
    if (opts.corked) {
      // Registered before any write can schedule the writer's own flush, so it runs first.
      setImmediate(() => {
        this.#writer.flush();
        socket.uncork();
      });
    }
  }

  /** Rekeys of our sending direction, and of the peer's, so far. */
  get rekeys(): { sent: number; received: number } {
    return { sent: this.#writer.rekeys, received: this.#receiver.peerRekeys };
  }

  override _read(): void {
    this.#wantData = true;
    this.#pump();
    if (this.#wantData) this.#socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: WriteCallback): void {
    this.#queue(chunk);
    this.#afterWrite(cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: WriteCallback): void {
    for (const { chunk } of chunks) this.#queue(chunk);
    this.#afterWrite(cb);
  }

  override _final(cb: WriteCallback): void {
    this.#writer.end();
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
    this.#writer.stop();
    this.#socket.destroy();
    if (waiting) waiting(err ?? new BurrowError('ERR_CONNECTION_CLOSED'));
    cb(err);
  }

  #queue(chunk: Buffer): void {
    for (let offset = 0; offset < chunk.length; offset += MAX_DATA) {
      this.#writer.frame(FRAME.data, STREAM_CHANNEL, chunk.subarray(offset, offset + MAX_DATA));
    }
  }

  /** A write is done once queued, unless the socket is backed up: then once it drains. */
  #afterWrite(cb: WriteCallback): void {
    if (this.#congested || this.#writer.full) {
      if (this.#writer.full) this.#writer.flush();
      if (this.#congested) {
        this.#waitingDrain = cb;
        return;
      }
    }
    cb();
  }

  /** Takes events while the reader wants more: data pushed, the end pushed, anything else fails. */
  #pump(): void {
    while (this.#wantData && !this.destroyed) {
      let event;
      try {
        event = this.#receiver.next();
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      if (event === null) break;
      if (event.type === 'end') {
        this.push(null);
      } else if (event.type === 'control' || event.channel !== STREAM_CHANNEL) {
        this.destroy(new BurrowError('ERR_PROTOCOL', 'a frame that is no stream data'));
        return;
      } else if (!this.push(event.piece)) {
        this.#wantData = false;
        this.#socket.pause();
        return;
      }
    }
    if (this.#socketEnded && !this.#receiver.peerEnded && !this.destroyed && this.#wantData) this.destroy(this.#receiver.truncation());
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#receiver.push(chunk);
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
    // Once both directions ended, messages still queued in the decoder are read out by #pump.
    if (this.destroyed || (this.#socketEnded && this.#finalDone)) return;
    this.destroy(new BurrowError('ERR_CONNECTION_CLOSED'));
  };

  readonly #onDrain = (): void => {
    this.#congested = false;
    const waiting = this.#waitingDrain;
    this.#waitingDrain = undefined;
    waiting?.();
  };
}
