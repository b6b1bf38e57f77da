/**
 * Log lines a peer can trigger are written from a small budget per cause, not once per message: each key
 * has `burst` lines (1 unless said), refilled at one per `windowMs`; a line over budget is counted, and the
 * next one written says how many were left out. Keys are bounded; the oldest are forgotten first. Sans-IO:
 * time is given.
 */
export class LogLimiter {
  readonly #keys = new Map<string, { tokens: number; at: number; suppressed: number }>();

  constructor(readonly windowMs = 10_000, readonly maxKeys = 4096) {}

  /** undefined: leave this line out. A number: write it, saying that many lines were left out before it. */
  admit(key: string, now: number, burst = 1): number | undefined {
    const last = this.#keys.get(key);
    const tokens = last ? Math.min(burst, last.tokens + (now - last.at) / this.windowMs) : burst;
    if (tokens < 1) {
      last!.suppressed++;
      last!.tokens = tokens;
      last!.at = now;
      return undefined;
    }
    this.#keys.delete(key);
    this.#keys.set(key, { tokens: tokens - 1, at: now, suppressed: 0 });
    if (this.#keys.size > this.maxKeys) this.#keys.delete(this.#keys.keys().next().value as string);
    return last?.suppressed ?? 0;
  }
}

/** Writes one line under `key` if the budget allows; `extra` carries the count of lines left out before it. */
export function limitedLine(limiter: LogLimiter, key: string, now: number, write: (extra: { suppressed?: number }) => void): void {
  const suppressed = limiter.admit(key, now);
  if (suppressed !== undefined) write(suppressed > 0 ? { suppressed } : {});
}
