/**
 * A token bucket with a hand-given clock: `burst` tokens, refilled at `perSecond`. Each control message a
 * session sends takes one; a session out of tokens is not refused, it is read more slowly (the adapter
 * pauses its socket until a token is back), so a legitimate burst passes and a flood costs a bounded
 * share of the event loop.
 */
export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(readonly burst: number, readonly perSecond: number, now: number) {
    this.#tokens = burst;
    this.#at = now;
  }

  /** Takes one token (the balance may go below zero); returns how long to wait before the next is due, 0 if none. */
  take(now: number): number {
    this.#refill(now);
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.perSecond) * 1000);
  }

  /** Takes one token if there is one; false (taking nothing) if not. */
  tryTake(now: number): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #refill(now: number): void {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.perSecond);
    this.#at = now;
  }
}
