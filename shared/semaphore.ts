/**
 * A counting semaphore: at most `limit` holders at once, the rest wait in FIFO order.
 * A released permit passes straight to the next waiter, so a late arrival cannot jump the queue.
 */
import { BurrowError } from './errors.js';

export class Semaphore {
  readonly limit: number;
  #active = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new BurrowError('ERR_CONFIG', `concurrency limit must be a positive integer, got ${limit}`);
    }
    this.limit = limit;
  }

  /** Holders right now. */
  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Resolves with a release function once a permit is held; calling it more than once is harmless. */
  async acquire(): Promise<() => void> {
    if (this.#active < this.limit) {
      this.#active++;
    } else {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release();
    };
  }

  /** Runs `task` while holding a permit, releasing it however the task ends. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next) {
      next(); // the permit moves to the waiter; #active stays the same
    } else {
      this.#active--;
    }
  }
}
