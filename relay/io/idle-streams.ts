/**
 * Which running streams carried nothing for a while (shared/net/idle-sweep.ts, read from the streams'
 * byte counters at each sweep). A stopping relay cuts those instead of waiting out its whole drain for
 * them. A stream that says it is busy (a public HTTP answer awaited) is never idle; one that is waiting
 * (bytes held for a slow reader, or its last bytes went to the server with nothing back since) is idle
 * never (it runs on until the deadline), the rule a stopping skeleton and forwarder
 * follow too.
 */
import { IdleSweep, type StreamCounts } from '../../shared/net/idle-sweep.js';
import type { LiveStreams } from './live-streams.js';

export class IdleStreams {
  readonly #sweep = new IdleSweep<number>();

  constructor(private readonly live: LiveStreams) {}

  /** The streams whose byte counts have not moved for `idleMs` as of `now` (the first sweep starts the clock). */
  sweep(now: number, idleMs: number): number[] {
    const streams = this.live.list().map((s): [number, StreamCounts] => {
      const b = s.bytes();
      return [s.id, { toServer: b.aToB, fromServer: b.bToA, busy: s.busy?.() ?? false, waiting: s.waiting?.() ?? false }];
    });
    return this.#sweep.sweep(streams, now, idleMs);
  }
}
