/**
 * Which running streams carried nothing for a while, read from their byte counters at each sweep (no
 * work per chunk). A stopping relay cuts those instead of waiting out its whole drain for them: a stream
 * the relay can see is idle is not work in flight. A stream that says it is busy (a public HTTP answer
 * awaited) is never idle.
 */
import type { LiveStreams } from './live-streams.js';

export class IdleStreams {
  readonly #seen = new Map<number, { total: number; since: number }>();

  constructor(private readonly live: LiveStreams) {}

  /** The streams whose byte counts have not moved for `idleMs` as of `now` (the first sweep starts the clock). */
  sweep(now: number, idleMs: number): number[] {
    const idle: number[] = [];
    const running = new Set<number>();
    for (const stream of this.live.list()) {
      running.add(stream.id);
      const b = stream.bytes();
      const total = b.aToB + b.bToA;
      const seen = this.#seen.get(stream.id);
      if (!seen || seen.total !== total || stream.busy?.()) this.#seen.set(stream.id, { total, since: now });
      else if (now - seen.since >= idleMs) idle.push(stream.id);
    }
    for (const id of this.#seen.keys()) if (!running.has(id)) this.#seen.delete(id);
    return idle;
  }
}
