/**
 * One socket at the relay: frames in, commands out. Holds no protocol logic: it decodes frames one at a
 * time, hands them to the core, and stops decoding the moment the core holds the connection, so the
 * bytes that follow stay raw for the splice.
 *
 * Backpressure: what the relay writes answers what the peer sent, so while the socket's write side needs
 * to drain no further frame is decoded and the socket is paused; a peer that sends requests and never
 * reads them holds at most one reply beyond the socket's high-water mark. What the relay sends
 * unprompted (Dial, ping) cannot be held back that way: past SEND_QUEUE_LIMIT unsent bytes the peer is cut.
 */
import type { Socket } from 'node:net';
import { codeOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { FrameDecoder } from '../../shared/protocol/codec.js';
import { FRAME_LIMITS, type PortRole } from '../../shared/protocol/messages.js';
import type { ConnId, RelayEvent } from '../core/relay-events.js';

/** A held connection buffers at most this much raw data before it is paused. */
const HELD_BUFFER_LIMIT = 64 * 1024;
/** A closed connection whose peer does not close its side is destroyed after this. */
const CLOSE_GRACE_MS = 5_000;
/** A peer that leaves this much of what the relay sent it unread is cut. */
export const SEND_QUEUE_LIMIT = 1024 * 1024;

export class RelayConnection {
  readonly decoder = new FrameDecoder(FRAME_LIMITS.handshake);
  #held = false;
  #closing = false;
  #detached = false;
  /** Decoding stopped until the socket's write side drains. */
  #waitingForDrain = false;
  /** Decoding stopped until the core's pacing lets the session send again. */
  #pacedUntil: NodeJS.Timeout | undefined;

  constructor(
    readonly id: ConnId,
    readonly port: PortRole,
    readonly socket: Socket,
    readonly log: Logger,
    private readonly dispatch: (event: RelayEvent) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      log.debug({ code: err.code }, 'socket error');
      socket.destroy();
    });
    socket.on('end', this.#onEnd);
    socket.once('close', () => dispatch({ type: 'closed', conn: id }));
  }

  #onData = (chunk: Buffer): void => {
    if (this.#closing) return;
    this.decoder.append(chunk);
    if (this.#held) {
      if (this.decoder.buffered > HELD_BUFFER_LIMIT) this.socket.pause();
      this.dispatch({ type: 'raw-bytes', conn: this.id });
      return;
    }
    this.#decode();
  };

  /** Hands the buffered frames to the core one by one, until it holds us, closes us, or our replies back up. */
  #decode(): void {
    try {
      while (!this.#held && !this.#closing && !this.#waitingForDrain && !this.#pacedUntil) {
        if (this.socket.writableNeedDrain) return this.#awaitDrain();
        const body = this.decoder.next();
        if (!body) break;
        this.dispatch({ type: 'frame', conn: this.id, body });
      }
      // Bytes that came in the same read as the frame that made the core hold us are raw bytes too.
      if (this.#held && !this.#closing && this.decoder.buffered > 0) this.dispatch({ type: 'raw-bytes', conn: this.id });
    } catch (err) {
      this.dispatch({ type: 'bad-bytes', conn: this.id, code: codeOf(err) });
    }
  }

  #awaitDrain(): void {
    this.#waitingForDrain = true;
    this.socket.pause();
    this.log.debug({ unsent: this.socket.writableLength }, 'peer is not reading its replies: reading paused until they drain');
    this.socket.once('drain', this.#onDrain);
  }

  /** The core paces this session: read nothing for `ms`, then carry on with what is buffered. */
  pauseReading(ms: number): void {
    if (this.#pacedUntil || this.#detached || this.#closing) return;
    this.socket.pause();
    this.#pacedUntil = setTimeout(() => {
      this.#pacedUntil = undefined;
      if (this.#detached || this.#closing || this.#waitingForDrain) return;
      this.socket.resume();
      this.#decode();
    }, ms);
    this.#pacedUntil.unref();
  }

  #onDrain = (): void => {
    this.#waitingForDrain = false;
    if (this.#detached || this.#closing) return;
    if (this.#pacedUntil) return;
    this.socket.resume();
    this.#decode();
  };

  /** Before a splice, a peer that stops sending can never finish its handshake: close, and say if it cut a frame. */
  #onEnd = (): void => {
    if (this.decoder.buffered > 0 && !this.#held) this.log.debug({ bytes: this.decoder.buffered }, 'peer ended inside a frame');
    this.close();
  };

  hold(): void {
    this.#held = true;
  }

  setFrameLimit(bytes: number): void {
    this.decoder.maxFrame = bytes;
  }

  send(frame: Buffer): void {
    if (this.#closing || this.socket.destroyed) return;
    this.socket.write(frame);
    if (this.socket.writableLength > SEND_QUEUE_LIMIT) {
      this.log.warn({ unsent: this.socket.writableLength }, 'peer is not reading: cutting it');
      this.socket.destroy();
    }
  }

  /** Bytes written to the socket that the kernel has not taken yet. */
  get unsent(): number {
    return this.#detached ? 0 : this.socket.writableLength;
  }

  close(): void {
    if (this.#detached) {
      // A spliced stream the core gives up on (its skeleton is dead): both sides go at once.
      this.socket.destroy();
      return;
    }
    if (this.#closing) return;
    this.#closing = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Hands the socket over to a splice; returns the raw bytes already read past the last frame. */
  detach(): Buffer {
    this.#detached = true;
    this.#waitingForDrain = false;
    clearTimeout(this.#pacedUntil);
    this.#pacedUntil = undefined;
    this.socket.removeListener('drain', this.#onDrain);
    this.socket.removeListener('data', this.#onData);
    this.socket.removeListener('end', this.#onEnd);
    return this.decoder.takeRest();
  }
}
