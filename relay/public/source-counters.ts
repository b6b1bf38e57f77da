/**
 * Per-source counters of one scope (relay-wide, or per publication): the connections a source has open
 * and a token bucket of the new ones it may make. Sans-IO, time is given. Bounded whatever the sources do:
 * - an entry with open connections is kept; there are at most as many as open connections, which the
 *   front door caps;
 * - an idle entry (nothing open) sits in a least-recently-used table of at most `maxIdle`; it is
 *   forgotten once its bucket must have refilled (checked on a few of the oldest at each call, so no
 *   timer and no full scan), and the oldest is forgotten when the table is full. A source forgotten early
 *   comes back with a full bucket: a rate reset only someone holding more than `maxIdle` units can buy,
 *   and the connection caps still hold.
 */
import { TokenBucket } from '../core/token-bucket.js';

interface Counter {
  open: number;
  bucket: TokenBucket;
  /** When the bucket was last taken from: it is full again at most burst / perSecond later. */
  takenAt: number;
}

/** Idle entries looked at per call for forgetting. */
const SWEEP_PER_CALL = 2;

export class SourceCounters {
  readonly #busy = new Map<string, Counter>();
  readonly #idle = new Map<string, Counter>();

  constructor(readonly maxIdle: number) {}

  /** Entries held (busy and idle). */
  get size(): number {
    return this.#busy.size + this.#idle.size;
  }

  /** Connections `key` has open. */
  open(key: string): number {
    return this.#busy.get(key)?.open ?? 0;
  }

  /** Takes one token from `key`'s bucket (made full with these parameters if new or changed); false if none. */
  tryTake(key: string, now: number, burst: number, perSecond: number): boolean {
    this.#sweep(now);
    let counter = this.#busy.get(key);
    if (!counter) {
      counter = this.#idle.get(key);
      // Touched: to the young end of the idle table.
      this.#idle.delete(key);
      counter ??= { open: 0, bucket: new TokenBucket(burst, perSecond, now), takenAt: now };
      this.#idle.set(key, counter);
      this.#bound();
    }
    if (counter.bucket.burst !== burst || counter.bucket.perSecond !== perSecond) counter.bucket = new TokenBucket(burst, perSecond, now);
    counter.takenAt = now;
    return counter.bucket.tryTake(now);
  }

  /** One more open connection for `key` (its entry made by tryTake, or a new one with no rate). */
  add(key: string): void {
    const counter = this.#busy.get(key) ?? this.#idle.get(key) ?? { open: 0, bucket: new TokenBucket(1, 1, 0), takenAt: -Infinity };
    this.#idle.delete(key);
    counter.open++;
    this.#busy.set(key, counter);
  }

  /** One connection of `key` closed; with none left its entry becomes idle. */
  remove(key: string): void {
    const counter = this.#busy.get(key);
    if (!counter) return;
    if (--counter.open > 0) return;
    this.#busy.delete(key);
    this.#idle.set(key, counter);
    this.#bound();
  }

  #bound(): void {
    while (this.#idle.size > this.maxIdle) this.#idle.delete(this.#idle.keys().next().value as string);
  }

  #sweep(now: number): void {
    let looked = 0;
    for (const [key, counter] of this.#idle) {
      if (looked++ >= SWEEP_PER_CALL) return;
      const refillMs = (counter.bucket.burst / counter.bucket.perSecond) * 1000;
      if (now - counter.takenAt >= refillMs) this.#idle.delete(key);
    }
  }
}
