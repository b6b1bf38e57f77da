/**
 * One socket at the relay: frames in, commands out. Holds no protocol logic: it decodes frames one at a
 * time, hands them to the core, and stops decoding the moment the core holds the connection, so the
 * bytes that follow stay raw for the splice.
 */
import type { Socket } from 'node:net';
import { codeOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { FrameDecoder } from '../../shared/protocol/codec.js';
import { FRAME_LIMITS, type PortRole } from '../../shared/protocol/messages.js';
import type { ConnId, RelayEvent } from '../core/relay-events.js';

/** A held connection buffers at most this much raw data before it is paused. */
const HELD_BUFFER_LIMIT = 256 * 1024;
/** A closed connection whose peer does not close its side is destroyed after this. */
const CLOSE_GRACE_MS = 5_000;

export class RelayConnection {
  readonly decoder = new FrameDecoder(FRAME_LIMITS.handshake);
  #held = false;
  #closing = false;
  #detached = false;

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
    try {
      for (let body = this.decoder.next(); body; body = this.#held || this.#closing ? undefined : this.decoder.next()) {
        this.dispatch({ type: 'frame', conn: this.id, body });
      }
      // Bytes that came in the same read as the frame that made the core hold us are raw bytes too.
      if (this.#held && !this.#closing && this.decoder.buffered > 0) this.dispatch({ type: 'raw-bytes', conn: this.id });
    } catch (err) {
      this.dispatch({ type: 'bad-bytes', conn: this.id, code: codeOf(err) });
    }
  };

  /** Before a splice, a peer that stops sending can never finish its handshake: close, and say if it cut a frame. */
  #onEnd = (): void => {
    if (this.decoder.buffered > 0 && !this.#held) this.log.warn({ bytes: this.decoder.buffered }, 'peer ended inside a frame');
    this.close();
  };

  hold(): void {
    this.#held = true;
  }

  setFrameLimit(bytes: number): void {
    this.decoder.maxFrame = bytes;
  }

  send(frame: Buffer): void {
    if (!this.#closing && !this.socket.destroyed) this.socket.write(frame);
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
    this.socket.removeListener('data', this.#onData);
    this.socket.removeListener('end', this.#onEnd);
    return this.decoder.takeRest();
  }
}
