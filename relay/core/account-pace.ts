/**
 * The pace of control messages, per account: all sessions of one account (up to --max-sessions-per-user)
 * draw on one token bucket, so 32 sessions cannot send 32 times the rate. Over it, a session is read more
 * slowly, never refused (token-bucket.ts). A bucket is dropped when the account's last session ends.
 */
import { TokenBucket } from './token-bucket.js';

export class AccountPace {
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(readonly burst: number, readonly perSecond: number) {}

  /** Takes one message's token for `user`; how long to wait before reading that session again, 0 if not at all. */
  take(user: string, now: number): number {
    let bucket = this.#buckets.get(user);
    if (!bucket) {
      bucket = new TokenBucket(this.burst, this.perSecond, now);
      this.#buckets.set(user, bucket);
    }
    return bucket.take(now);
  }

  forget(user: string): void {
    this.#buckets.delete(user);
  }
}
