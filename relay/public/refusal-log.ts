/**
 * Refusals at the public ports are triggered by anyone on the internet, so each is logged once per source
 * (its penalty unit: an IPv4 address or an IPv6 /64) and reason per window, not once per connection; the
 * next line written says how many were left out. Counting every refusal per publication and reason is the
 * metrics' job (the caller has the reason). Sans-IO: time is given, the writer is the caller's logger.
 */
import { limitedLine, LogLimiter } from '../../shared/log-limiter.js';
import { sourceKey } from '../core/source-guard.js';

export interface RefusalLine {
  /** The full source address: operators need it for abuse reports. */
  source: string;
  publication: string;
  reason: string;
  /** Lines for this source and reason left out since the last one written. */
  suppressed?: number;
}

export class RefusalLog {
  constructor(readonly limiter: LogLimiter = new LogLimiter(60_000)) {}

  /** Calls `write` for this refusal unless its source and reason were logged within the window. */
  note(source: string, publication: string, reason: string, now: number, write: (line: RefusalLine) => void): void {
    limitedLine(this.limiter, `${sourceKey(source)} ${reason}`, now, (extra) => write({ source, publication, reason, ...extra }));
  }
}
