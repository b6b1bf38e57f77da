/**
 * One UDP flow at the side that listens (a client forwarder, a relay's udp publication): datagrams from
 * its source wait in `early` while its stream (or public leg) opens, within the same byte budget as the
 * stream's queue once open, so a burst at a flow's start is not cut to a few datagrams; then they go
 * through the flow's DatagramPump. `send` returns false for a datagram dropped (the caller counts it).
 */
import type { RemoteInfo } from 'node:dgram';
import { DATAGRAM_HEADER } from '../udp/datagram-codec.js';
import { DEFAULT_FLOW_QUEUE_BYTES, type DatagramPump } from './datagram-pump.js';

export class DatagramFlow {
  pump: DatagramPump | undefined;
  ended = false;
  #early: Buffer[] = [];
  #earlyBytes = 0;

  constructor(readonly source: RemoteInfo) {}

  send(datagram: Buffer): boolean {
    if (this.ended) return false;
    if (this.pump) return this.pump.send(datagram);
    if (this.#earlyBytes + DATAGRAM_HEADER + datagram.length > DEFAULT_FLOW_QUEUE_BYTES) return false;
    this.#early.push(datagram);
    this.#earlyBytes += DATAGRAM_HEADER + datagram.length;
    return true;
  }

  /** The stream is open: what waited goes into it; returns how many of those it dropped. */
  opened(pump: DatagramPump): number {
    this.pump = pump;
    let dropped = 0;
    for (const d of this.#early) if (!pump.send(d)) dropped++;
    this.#early = [];
    this.#earlyBytes = 0;
    return dropped;
  }

  end(): void {
    this.ended = true;
    this.#early = [];
    this.#earlyBytes = 0;
    this.pump?.close();
  }
}
