/**
 * Exponential backoff with full jitter (0.5 s to 30 s by default), reset once a connection has been
 * stable for a while. Randomness is a parameter, so tests choose it.
 */
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** A connection that lasted this long resets the sequence. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 500, maxMs: 30_000, stableMs: 60_000 };

export class Backoff {
  #attempt = 0;
  #connectedAt: number | undefined;

  constructor(private readonly opts: BackoffOptions = DEFAULT_BACKOFF, private readonly random: () => number = Math.random) {}

  connected(now: number): void {
    this.#connectedAt = now;
  }

  /** The delay before the next attempt; a stable connection before this failure starts over. */
  next(now: number): number {
    if (this.#connectedAt !== undefined && now - this.#connectedAt >= this.opts.stableMs) this.#attempt = 0;
    this.#connectedAt = undefined;
    const ceiling = Math.min(this.opts.maxMs, this.opts.minMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return Math.max(this.opts.minMs, Math.floor(this.random() * ceiling));
  }
}
