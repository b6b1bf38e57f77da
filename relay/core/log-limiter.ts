/**
 * Log lines a peer can trigger are written once per cause and window, not once per message: the first
 * line for a key goes out, later ones within `windowMs` are counted, and the next line after the window
 * says how many were left out. Keys are bounded; the oldest are forgotten first. Sans-IO: time is given.
 */
export class LogLimiter {
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(readonly windowMs = 10_000, readonly maxKeys = 4096) {}

  /** undefined: leave this line out. A number: write it, saying that many lines were left out before it. */
  admit(key: string, now: number): number | undefined {
    const last = this.#last.get(key);
    if (last && now - last.at < this.windowMs) {
      last.suppressed++;
      return undefined;
    }
    this.#last.delete(key);
    this.#last.set(key, { at: now, suppressed: 0 });
    if (this.#last.size > this.maxKeys) this.#last.delete(this.#last.keys().next().value as string);
    return last?.suppressed ?? 0;
  }
}
