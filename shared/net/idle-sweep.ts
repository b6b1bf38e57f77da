/**
 * Which of a stopping process's streams are idle, read from their byte counters at each sweep (no work
 * per chunk): a stream whose counts have not moved for the idle time. A stream the process can see is
 * idle is not work in flight, so a stopping relay, skeleton or forwarder cuts it instead of waiting out
 * its whole drain for it. Never idle, however long silent (the drain's deadline cuts those): a stream
 * that says it is busy (a public HTTP answer awaited at the relay) or waiting (bytes held for a slow
 * reader, an answer its owner knows is owed, one direction ended and not the other), and, read from the
 * counters, one whose last bytes went to the server with nothing back since (a request awaiting its
 * answer; a stream first seen with bytes sent and none back awaits its first). A bound on that wait cut
 * slow downloads: the kernel buffers between a process and a slow reader hold many megabytes (a receive
 * buffer grows to 32 MiB here), and while they empty nothing any process on the way sees moves.
 */

/** A stopping process cuts a stream silent this long, unless it is busy or waiting. */
export const DRAIN_IDLE_MS = 1000;

export interface StreamCounts {
  toServer: number;
  fromServer: number;
  busy?: boolean;
  /** Bytes wait on a slow reader, or an answer is owed: never idle. */
  waiting?: boolean;
}

interface Seen {
  toServer: number;
  fromServer: number;
  since: number;
  awaiting: boolean;
}

export class IdleSweep<K> {
  readonly #seen = new Map<K, Seen>();

  /** The streams (of those given, all that run now) silent for `idleMs` as of `now`; the first sweep starts the clock. */
  sweep(streams: Iterable<[K, StreamCounts]>, now: number, idleMs: number): K[] {
    const idle: K[] = [];
    const running = new Set<K>();
    for (const [key, counts] of streams) {
      running.add(key);
      const seen = this.#seen.get(key);
      if (!seen) {
        this.#seen.set(key, { toServer: counts.toServer, fromServer: counts.fromServer, since: now, awaiting: counts.toServer > 0 && counts.fromServer === 0 });
        continue;
      }
      const sent = counts.toServer !== seen.toServer;
      const got = counts.fromServer !== seen.fromServer;
      if (got) seen.awaiting = false;
      else if (sent) seen.awaiting = true;
      if (sent || got || counts.busy) {
        seen.toServer = counts.toServer;
        seen.fromServer = counts.fromServer;
        seen.since = now;
      } else if (!counts.waiting && !seen.awaiting && now - seen.since >= idleMs) {
        idle.push(key);
      }
    }
    for (const key of this.#seen.keys()) if (!running.has(key)) this.#seen.delete(key);
    return idle;
  }
}
