/**
 * Whether the forwarder's server is away, so a long outage costs one log line rather than one per
 * local connection: the first failure of a kind opens an outage (worth a warning), the same failure
 * again is part of it (worth a debug line), and the first stream that opens ends it (worth a note).
 */
import type { ErrorCode } from '../../shared/errors.js';

export type OutageVerdict = 'new' | 'ongoing';

export class ServerOutage {
  #code: ErrorCode | undefined;
  #refused = 0;

  /** The code of the outage going on, if any. */
  get code(): ErrorCode | undefined {
    return this.#code;
  }

  /** A local connection could not be served for `code`: a new outage, or more of the same. */
  failed(code: ErrorCode): OutageVerdict {
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
    const code = this.#code;
    if (code === undefined) return undefined;
    const ended = { code, refused: this.#refused };
    this.#code = undefined;
    this.#refused = 0;
    return ended;
  }
}
