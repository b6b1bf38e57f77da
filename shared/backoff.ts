/**
 * Reconnect delays with full jitter, reset once a connection has been stable for a while. Two
 * ceilings, after the code's retry policy (shared/errors.ts):
 * - `soon` (the relay is not there: refused, closed, shutting down) grows from 0.5 s to a low cap
 *   (`soonMaxMs`, 4 s). Trying costs the relay nothing while it is away (the kernel refuses the SYN), and
 *   the low cap makes the last wait before it returns short: a peer is back within `soonMaxMs` of the
 *   relay, whether it was gone 2 s or 10 min. The jitter spreads a thousand peers over that window.
 * - `later` (the relay is there but refused: throttled, busy) grows to `maxMs` (30 s), so a struggling
 *   relay is not hammered.
 * Randomness is a parameter, so tests and simulations choose it.
 */
import type { RetryPolicy } from './errors.js';

export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** The ceiling while the relay is not there at all (policy `soon`). */
  soonMaxMs: number;
  /** A connection that lasted this long resets the sequence. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 500, maxMs: 30_000, soonMaxMs: 4_000, stableMs: 60_000 };

export class Backoff {
  #attempt = 0;
  #connectedAt: number | undefined;

  constructor(private readonly opts: BackoffOptions = DEFAULT_BACKOFF, private readonly random: () => number = Math.random) {}

  connected(now: number): void {
    this.#connectedAt = now;
  }

  /** The delay before the next attempt, between minMs and the policy's ceiling; a stable connection before this failure starts over. */
  next(now: number, policy: Exclude<RetryPolicy, 'stop'> = 'later'): number {
    if (this.#connectedAt !== undefined && now - this.#connectedAt >= this.opts.stableMs) this.#attempt = 0;
    this.#connectedAt = undefined;
    const cap = policy === 'soon' ? this.opts.soonMaxMs : this.opts.maxMs;
    const ceiling = Math.min(cap, this.opts.minMs * 2 ** (this.#attempt + 1));
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return Math.floor(this.opts.minMs + this.random() * (ceiling - this.opts.minMs));
  }
}
