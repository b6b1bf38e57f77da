/**
 * Two connected Duplex streams in memory (Node 22's `stream.duplexPair`, which Node 20 lacks): what one
 * end writes the other reads, with backpressure (a write completes once the other end's reader wants
 * more), half-close (end() on one is 'end' on the other) and destroy (either end takes the other down).
 * Each end counts the bytes it wrote and read.
 */
import { Duplex } from 'node:stream';

export class PairEnd extends Duplex {
  peer!: PairEnd;
  /** Bytes written into this end (read by the peer). */
  bytesSent = 0;
  /** Bytes the peer wrote that this end delivered to its reader. */
  bytesReceived = 0;
  /** Our write that waits for the peer's reader to want more. */
  #blocked: ((err?: Error | null) => void) | undefined;

  constructor() {
    super({ allowHalfOpen: true });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    const peer = this.peer;
    if (peer.destroyed) return callback(new Error('the other end of the pair is gone'));
    this.bytesSent += chunk.length;
    peer.bytesReceived += chunk.length;
    if (peer.push(chunk)) callback();
    else this.#blocked = callback;
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.push(null);
    callback();
  }

  override _read(): void {
    const peer = this.peer;
    const blocked = peer.#blocked;
    peer.#blocked = undefined;
    blocked?.();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const blocked = this.#blocked;
    this.#blocked = undefined;
    blocked?.(err ?? new Error('pair end destroyed'));
    // A destroy takes the other end down; an end closed by itself after both directions ended does not
    // (the other end may still have to deliver that end to its reader).
    const finished = this.writableFinished && this.readableEnded;
    if (!this.peer.destroyed && (err || !finished)) this.peer.destroy();
    callback(err);
  }
}

export function duplexPair(): [PairEnd, PairEnd] {
  const a = new PairEnd();
  const b = new PairEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
