/**
 * Frames over a socket for the peer side: await the next frame body, send one, and hand the socket on
 * with the bytes read past the last frame. Errors and early ends become BurrowErrors.
 */
import type { Socket } from 'node:net';
import { BurrowError, type ErrorCode } from '../errors.js';
import { FrameDecoder } from '../protocol/codec.js';

export class FrameChannel {
  readonly decoder: FrameDecoder;
  #waiting: { resolve: (body: Buffer) => void; reject: (err: Error) => void } | undefined;
  #ended: BurrowError | undefined;
  #onFrame: ((body: Buffer) => void) | undefined;

  constructor(readonly socket: Socket, maxFrame: number) {
    this.decoder = new FrameDecoder(maxFrame);
    socket.on('data', this.#onData);
    socket.on('error', (err: NodeJS.ErrnoException) => this.#end('ERR_CONNECTION_CLOSED', err.code));
    // Framed connections are never half-closed on purpose: the relay's FIN means it is gone.
    socket.on('end', () => {
      this.#end('ERR_CONNECTION_CLOSED', 'relay closed the connection');
      socket.destroy();
    });
    socket.on('close', () => this.#end('ERR_CONNECTION_CLOSED', 'connection closed'));
  }

  set maxFrame(bytes: number) {
    this.decoder.maxFrame = bytes;
  }

  /** Next frame body; rejects on timeout (0: wait as long as the socket lives), close or bad bytes. */
  next(timeoutMs: number, timeoutCode: ErrorCode = 'ERR_TIMEOUT'): Promise<Buffer> {
    if (this.#ended) return Promise.reject(this.#ended);
    const ready = this.#take();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = timeoutMs > 0
        ? setTimeout(() => {
          this.#waiting = undefined;
          reject(new BurrowError(timeoutCode, 'waiting for the relay'));
        }, timeoutMs)
        : undefined;
      this.#waiting = {
        resolve: (body) => { clearTimeout(timer); resolve(body); },
        reject: (err) => { clearTimeout(timer); reject(err); },
      };
    });
  }

  /** From now on every frame goes to `handler` (the control channel loop). */
  onFrame(handler: (body: Buffer) => void): void {
    this.#onFrame = handler;
    for (let body = this.#take(); body; body = this.#take()) handler(body);
  }

  send(frameBytes: Buffer): boolean {
    return this.socket.write(frameBytes);
  }

  /** Stops framing; returns the socket's bytes read past the last frame. */
  detach(): Buffer {
    this.socket.removeListener('data', this.#onData);
    this.socket.removeAllListeners('end');
    return this.decoder.takeRest();
  }

  get closedError(): BurrowError | undefined {
    return this.#ended;
  }

  #onData = (chunk: Buffer): void => {
    this.decoder.append(chunk);
    try {
      if (this.#onFrame) {
        for (let body = this.decoder.next(); body && this.#onFrame; body = this.decoder.next()) this.#onFrame(body);
      } else if (this.#waiting) {
        const body = this.decoder.next();
        if (body) {
          const waiting = this.#waiting;
          this.#waiting = undefined;
          waiting.resolve(body);
        }
      }
    } catch (err) {
      this.#fail(err instanceof BurrowError ? err : new BurrowError('ERR_MALFORMED_FRAME'));
    }
  };

  #take(): Buffer | undefined {
    try {
      return this.decoder.next();
    } catch (err) {
      this.#fail(err instanceof BurrowError ? err : new BurrowError('ERR_MALFORMED_FRAME'));
      return undefined;
    }
  }

  #end(code: ErrorCode, detail?: string): void {
    if (this.#ended) return;
    this.#ended = new BurrowError(code, detail);
    this.#waiting?.reject(this.#ended);
    this.#waiting = undefined;
  }

  #fail(err: BurrowError): void {
    this.#end(err.code, err.message);
    this.socket.destroy();
  }
}
