/**
 * A stopping skeleton's work in flight. The skeleton first tells its relays it is leaving (an Advertise
 * of nothing: no new stream or public connection is routed to it), then drains: tunnels take no new
 * channel and end (the authenticated end) once their last channel has; streams and channels run on until
 * they end, except those silent for DRAIN_IDLE_MS, which are cut (shared/net/idle-sweep.ts); one that
 * is waiting (bytes held for a slow reader, an answer owed by the home server) runs on until the
 * deadline. At the deadline (or on hurry(), a second signal) tunnels end (their remaining channels reset, the tunnel's
 * authenticated end written) and whatever else is left is cut. A cut is a reset, so nobody takes a cut
 * stream for a whole one.
 *
 * Two kinds of things are tracked: `work` (a stream or a channel, with byte counters toward and from its
 * server and a way to cut it) and `connections` (each data connection being served: a tunnel ends by
 * itself once drained, so the drain waits for the connection rather than cutting it).
 */
import { EventEmitter } from 'node:events';
import { DRAIN_IDLE_MS, IdleSweep, type StreamCounts } from '../../shared/net/idle-sweep.js';

export { DRAIN_IDLE_MS } from '../../shared/net/idle-sweep.js';

export interface DrainWork {
  counts(): StreamCounts;
  cut(): void;
}

export interface SkeletonDrainEvents {
  /** Stop now (a second signal): the drain's deadline is brought forward. */
  hurry: [];
  /** A sweep ran at `at`: it cut `cut`, and `running` streams and channels go on. */
  swept: [{ at: number; cut: number; running: number }];
}

export class SkeletonDrain extends EventEmitter<SkeletonDrainEvents> {
  readonly #work = new Set<DrainWork>();
  readonly #connections = new Set<Promise<unknown>>();
  readonly #listeners = new Set<() => void>();
  readonly #atDeadline = new Set<() => void>();
  readonly #idle = new IdleSweep<DrainWork>();
  #draining = false;
  #hurried = false;

  get draining(): boolean {
    return this.#draining;
  }

  /** Data connections being served now. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Tracks a stream or channel until `done` settles. */
  track(work: DrainWork, done: Promise<unknown>): void {
    this.#work.add(work);
    void done.finally(() => this.#work.delete(work));
  }

  /** Tracks a data connection until `served` settles. */
  serving(served: Promise<unknown>): void {
    this.#connections.add(served);
    void served.finally(() => this.#connections.delete(served));
  }

  /** `fn` runs once when the drain starts (at once if it has); returns a way to unsubscribe. */
  onDrain(fn: () => void): () => void {
    if (this.#draining) {
      fn();
      return () => undefined;
    }
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** `fn` runs if the drain reaches its deadline (a tunnel ends itself there); returns a way to unsubscribe. */
  atDeadline(fn: () => void): () => void {
    this.#atDeadline.add(fn);
    return () => this.#atDeadline.delete(fn);
  }

  /** True once hurry() was called. */
  get hurried(): boolean {
    return this.#hurried;
  }

  /** Brings the deadline forward to now (a second Ctrl-C): what runs is cut, tunnels still end whole. */
  hurry(): void {
    if (this.#hurried) return;
    this.#hurried = true;
    this.emit('hurry');
  }

  start(): void {
    if (this.#draining) return;
    this.#draining = true;
    for (const fn of [...this.#listeners]) fn();
    this.#listeners.clear();
  }

  /** Cuts the streams and channels silent for `idleMs` that await no answer; returns how many. */
  sweep(now: number, idleMs = DRAIN_IDLE_MS): number {
    const idle = this.#idle.sweep([...this.#work].map((w): [DrainWork, StreamCounts] => [w, w.counts()]), now, idleMs);
    for (const work of idle) work.cut();
    this.emit('swept', { at: now, cut: idle.length, running: this.#work.size - idle.length });
    return idle.length;
  }

  /** Cuts everything still running (the deadline): tunnels end, the rest is reset; returns how many streams and channels. */
  cutAll(): number {
    for (const fn of [...this.#atDeadline]) fn();
    const all = [...this.#work];
    for (const work of all) work.cut();
    return all.length;
  }

  /** Resolves once no data connection is being served. */
  async done(): Promise<void> {
    while (this.#connections.size > 0) await Promise.allSettled([...this.#connections]);
  }
}
