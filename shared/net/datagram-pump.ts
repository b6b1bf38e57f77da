/**
 * One UDP flow's end-to-end stream, as datagrams: `send` writes one record (shared/udp/datagram-codec.ts),
 * 'datagram' gives each record read. Congestion drops, it never queues without bound: a datagram that
 * would take the stream's unsent bytes past `maxQueuedBytes` is dropped (`send` returns false and the
 * caller counts it), so a flooding flow loses datagrams while its neighbours, on streams of their own,
 * keep their round-trip time. A malformed or oversized record, an error or a truncated end closes this
 * stream only, with the code.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { codeOf, type ErrorCode } from '../errors.js';
import { DATAGRAM_HEADER, DatagramDecoder, encodeDatagram, MAX_DATAGRAM } from '../udp/datagram-codec.js';

/** Unsent bytes a flow's stream may hold before datagrams are dropped: a few of the largest datagrams. */
export const DEFAULT_FLOW_QUEUE_BYTES = 4 * (DATAGRAM_HEADER + MAX_DATAGRAM);
/**
 * Kernel buffer asked for on a UDP socket that all of a forwarder's or a publication's flows share: a
 * burst that arrives while the event loop is busy sealing waits there instead of being dropped by the
 * kernel (Linux caps it at net.core.rmem_max / wmem_max; with Debian's default, 208 KiB, it stays that).
 */
export const SHARED_SOCKET_BUFFER = 4 * 1024 * 1024;
/** The same for a skeleton's socket of one flow. */
export const FLOW_SOCKET_BUFFER = 1024 * 1024;

export interface DatagramPumpEvents {
  datagram: [datagram: Buffer];
  /** Once: undefined for a clean end (either side), else why. */
  close: [code: ErrorCode | undefined];
}

export class DatagramPump extends EventEmitter<DatagramPumpEvents> {
  readonly #decoder = new DatagramDecoder();
  #closed = false;

  constructor(private readonly stream: Duplex, private readonly maxQueuedBytes = DEFAULT_FLOW_QUEUE_BYTES) {
    super();
    stream.on('data', (chunk: Buffer) => {
      let datagrams: Buffer[];
      try {
        datagrams = this.#decoder.push(chunk);
      } catch (err) {
        this.#finish(codeOf(err));
        return;
      }
      for (const d of datagrams) if (!this.#closed) this.emit('datagram', d);
    });
    stream.once('end', () => {
      try {
        this.#decoder.end();
        this.#finish(undefined);
      } catch (err) {
        this.#finish(codeOf(err));
      }
    });
    stream.on('error', (err) => this.#finish(codeOf(err)));
    stream.once('close', () => this.#finish(undefined));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes one datagram; false if it was dropped (queue full, or the flow is over). */
  send(datagram: Buffer): boolean {
    if (this.#closed || !this.stream.writable) return false;
    if (this.stream.writableLength + DATAGRAM_HEADER + datagram.length > this.maxQueuedBytes) return false;
    this.stream.write(encodeDatagram(datagram));
    return true;
  }

  /** Stops reading (a UDP socket that cannot keep up): the peer's queue fills and drops instead. */
  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  /** Ends the flow from this side: the stream is ended cleanly, then destroyed. */
  close(): void {
    this.#finish(undefined);
  }

  #finish(code: ErrorCode | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    // A clean end says so to the peer (an authenticated close) before the stream goes; anything else cuts it.
    if (code === undefined && this.stream.writable) this.stream.end(() => this.stream.destroy());
    else this.stream.destroy();
    this.emit('close', code);
  }
}
