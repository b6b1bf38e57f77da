/**
 * Which of a stopping process's streams are idle, read from their byte counters at each sweep (no work
 * per chunk): a stream whose counts have not moved for the idle time. A stream the process can see is
 * idle is not work in flight, so a stopping relay, skeleton or forwarder cuts it instead of waiting out
 * its whole drain for it. Never idle: a stream that says it is busy (a public HTTP answer awaited at the
 * relay). With `patienceMs`, a stream that is waiting is idle only after that longer silence (the drains
 * use no bound: DRAIN_PATIENCE_MS): one that says so (bytes held for a slow reader, an answer its owner
 * knows is owed), or, read from the counters, one whose last bytes went to the server with nothing back
 * since (a request awaiting its answer; a stream first seen with bytes sent and none back awaits its
 * first).
 */
/** A stopping process cuts a stream silent this long... */
export const DRAIN_IDLE_MS = 1000;
/**
 * ...but never one that is waiting (on a slow reader, or for an answer owed): that runs on until the
 * drain's deadline. A fixed patience cut slow downloads: the kernel buffers between here and a slow
 * reader hold many megabytes (a receive buffer grows to 32 MiB here), and while they empty nothing
 * moves that any process on the way can see, for tens of seconds.
 */
export const DRAIN_PATIENCE_MS = Number.POSITIVE_INFINITY;

export interface StreamCounts {
  toServer: number;
  fromServer: number;
  busy?: boolean;
  /** Bytes wait on a slow reader, or an answer is owed: idle only after `patienceMs`. */
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

  constructor(private readonly opts: { patienceMs?: number } = {}) {}

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
        continue;
      }
      const patient = this.opts.patienceMs !== undefined && (counts.waiting === true || seen.awaiting);
      if (now - seen.since >= (patient ? Math.max(idleMs, this.opts.patienceMs ?? 0) : idleMs)) idle.push(key);
    }
    for (const key of this.#seen.keys()) if (!running.has(key)) this.#seen.delete(key);
    return idle;
  }
}
