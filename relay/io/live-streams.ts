/**
 * The streams the relay is splicing right now, with their byte counts read live from the sockets'
 * own counters (no work per chunk). For the admin API and metrics; the splice itself does not use it.
 */
import type { Socket } from 'node:net';
import type { SpliceBytes } from '../../shared/net/splice.js';

export interface LiveStream {
  id: number;
  server: string;
  user: string;
  start: Date;
  /** Client -> server is aToB, server -> client is bToA. */
  bytes: () => SpliceBytes;
  sockets: [Socket, Socket];
}

export class LiveStreams {
  readonly #streams = new Map<number, LiveStream>();

  add(stream: LiveStream): void {
    this.#streams.set(stream.id, stream);
  }

  remove(id: number): void {
    this.#streams.delete(id);
  }

  get(id: number): LiveStream | undefined {
    return this.#streams.get(id);
  }

  list(): LiveStream[] {
    return [...this.#streams.values()];
  }

  get size(): number {
    return this.#streams.size;
  }

  /** Bytes carried so far by every live stream, each way. */
  totals(): SpliceBytes {
    let aToB = 0;
    let bToA = 0;
    for (const s of this.#streams.values()) {
      const b = s.bytes();
      aToB += b.aToB;
      bToA += b.bToA;
    }
    return { aToB, bToA };
  }

  /** Cuts one stream at once (both sockets); false if it is not running. */
  destroy(id: number): boolean {
    const stream = this.#streams.get(id);
    if (!stream) return false;
    for (const s of stream.sockets) s.destroy();
    return true;
  }
}
