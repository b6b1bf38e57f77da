/**
 * The streams the relay is splicing right now, with their byte counts read live from the sockets'
 * own counters (no work per chunk). For the admin API and metrics; the splice itself does not use it.
 */
import type { Socket } from 'node:net';
import type { SpliceBytes } from '../../shared/net/splice.js';

/** Stream bytes each way, in the one vocabulary of logs, the audit file, the admin API and metrics. */
export interface DirectionBytes {
  clientToServer: number;
  serverToClient: number;
}

export interface LiveStream {
  id: number;
  server: string;
  user: string;
  start: Date;
  /** The splice's counters: side a is the client, so aToB is client to server. */
  bytes: () => SpliceBytes;
  /** What cutting the stream destroys (its two sockets, or a public stream's end-to-end leg). */
  sockets: ReadonlyArray<{ destroy(): void }>;
  /** Work under way although no byte moves (a public HTTP answer awaited): never idle. */
  busy?: () => boolean;
  /** Bytes wait on a slow reader, or an answer is owed: a stopping relay is patient with it (idle-streams.ts). */
  waiting?: () => boolean;
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

  /** Bytes carried so far by one live stream, each way; undefined if it is not running. */
  bytesOf(id: number): DirectionBytes | undefined {
    const b = this.#streams.get(id)?.bytes();
    return b ? { clientToServer: b.aToB, serverToClient: b.bToA } : undefined;
  }

  /** Bytes carried so far by every live stream, each way. */
  totals(): DirectionBytes {
    let clientToServer = 0;
    let serverToClient = 0;
    for (const s of this.#streams.values()) {
      const b = s.bytes();
      clientToServer += b.aToB;
      serverToClient += b.bToA;
    }
    return { clientToServer, serverToClient };
  }

  /** Cuts one stream at once (both sockets); false if it is not running. */
  destroy(id: number): boolean {
    const stream = this.#streams.get(id);
    if (!stream) return false;
    for (const s of stream.sockets) s.destroy();
    return true;
  }
}
