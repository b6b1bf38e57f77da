/**
 * Which running streams carried nothing for a while (shared/net/idle-sweep.ts, read from the streams'
 * byte counters at each sweep). A stopping relay cuts those instead of waiting out its whole drain for
 * them. A stream that says it is busy (a public HTTP answer awaited) is never idle; any other silent one
 * is, whichever way its last bytes went (the relay's rule since its first drain; a skeleton also waits
 * for answers under way).
 */
import { IdleSweep } from '../../shared/net/idle-sweep.js';
import type { LiveStreams } from './live-streams.js';

export class IdleStreams {
  readonly #sweep = new IdleSweep<number>();

  constructor(private readonly live: LiveStreams) {}

  /** The streams whose byte counts have not moved for `idleMs` as of `now` (the first sweep starts the clock). */
  sweep(now: number, idleMs: number): number[] {
    const streams = this.live.list().map((s): [number, { toServer: number; fromServer: number; busy: boolean }] => {
      const b = s.bytes();
      return [s.id, { toServer: b.aToB, fromServer: b.bToA, busy: s.busy?.() ?? false }];
    });
    return this.#sweep.sweep(streams, now, idleMs);
  }
}
