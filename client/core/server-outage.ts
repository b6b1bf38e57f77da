/**
 * Whether the forwarder's server (or the relay in front of it) is away, and how patient to be. A local
 * connection whose stream cannot be opened waits and tries again while the outage is young (a relay
 * restart heals within seconds; the skeleton re-advertises after it), and is refused at once once the
 * outage is older than `waitMs`. A long outage costs one log line rather than one per connection: the
 * first refusal of a kind opens it (a warning), the same refusal again is more of it (a debug line),
 * and the first stream that opens ends it (a note). Time is a parameter.
 */
import type { ErrorCode } from '../../shared/errors.js';

export type OutageVerdict = 'new' | 'ongoing';

export class ServerOutage {
  #code: ErrorCode | undefined;
  #refused = 0;
  /** When the first attempt failed since the last stream that opened. */
  #since: number | undefined;

  constructor(readonly waitMs: number) {}

  /** The code of the outage going on, if any. */
  get code(): ErrorCode | undefined {
    return this.#code;
  }

  /** An attempt to open a stream failed; the outage (if it becomes one) counts from the first. */
  attemptFailed(now: number): void {
    this.#since ??= now;
  }

  /** Whether a connection may still wait for the server: no outage yet, or one younger than waitMs. */
  patient(now: number): boolean {
    return this.#since === undefined || now - this.#since < this.waitMs;
  }

  /** A local connection was refused for `code`: a new outage, or more of the same. */
  failed(code: ErrorCode, now: number): OutageVerdict {
    this.#since ??= now;
    if (this.#code === code) {
      this.#refused++;
      return 'ongoing';
    }
    this.#code = code;
    this.#refused = 1;
    return 'new';
  }

  /** A stream opened: returns the outage it ended (and how many connections it refused), if any. */
  served(): { code: ErrorCode; refused: number } | undefined {
    this.#since = undefined;
    const code = this.#code;
    if (code === undefined) return undefined;
    const ended = { code, refused: this.#refused };
    this.#code = undefined;
    this.#refused = 0;
    return ended;
  }
}
