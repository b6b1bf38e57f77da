/**
 * One channel's flow control, sans-IO: what we may still send (the peer's grants), what the peer may
 * still send us, and when to grant more. The receiver grants in steps of a quarter window once its
 * local socket has taken the bytes, plus as much again while the socket keeps up (nothing queued behind
 * the write), so a fast reader's window doubles up to its maximum; a slow one never grows it.
 */
import { CHANNEL_WINDOW, MAX_CHANNEL_WINDOW, PUBLIC_CHANNEL_WINDOW, PUBLIC_MAX_CHANNEL_WINDOW } from './tunnel-frames.js';

const MAX_CREDIT = 0xffff_ffff;

/** A tunnel's channel windows: both sides start with `initial`; a fast reader's grows up to `max`. */
export interface ChannelWindows {
  initial: number;
  max: number;
}

export const CLIENT_TUNNEL_WINDOWS: ChannelWindows = { initial: CHANNEL_WINDOW, max: MAX_CHANNEL_WINDOW };
export const PUBLIC_TUNNEL_WINDOWS: ChannelWindows = { initial: PUBLIC_CHANNEL_WINDOW, max: PUBLIC_MAX_CHANNEL_WINDOW };

export class ChannelCredit {
  #send: number;
  #allowance: number;
  #window: number;
  readonly #max: number;
  #consumed = 0;

  constructor(windows: ChannelWindows = CLIENT_TUNNEL_WINDOWS) {
    this.#send = windows.initial;
    this.#allowance = windows.initial;
    this.#window = windows.initial;
    this.#max = windows.max;
  }

  /** Bytes we may send before the peer grants more. */
  get sendable(): number {
    return this.#send;
  }

  /** The receive window, as grown so far. */
  get window(): number {
    return this.#window;
  }

  /** We sent `n` bytes of data. */
  spend(n: number): void {
    this.#send -= n;
  }

  /** The peer granted `n` more bytes; false if that overflows the credit (a protocol error). */
  granted(n: number): boolean {
    if (this.#send + n > MAX_CREDIT) return false;
    this.#send += n;
    return true;
  }

  /** The peer sent `n` bytes of data; false if that is beyond what we granted (a protocol error). */
  received(n: number): boolean {
    if (n > this.#allowance) return false;
    this.#allowance -= n;
    return true;
  }

  /**
   * The local socket took `n` bytes (`keptUp`: nothing is queued behind them). Returns the grant to send
   * the peer now, or 0 while less than a quarter window was taken since the last grant.
   */
  delivered(n: number, keptUp: boolean): number {
    this.#consumed += n;
    if (this.#consumed < this.#window / 4) return 0;
    let grant = this.#consumed;
    this.#consumed = 0;
    if (this.#window < this.#max && keptUp) {
      const growth = Math.min(this.#window, this.#max - this.#window);
      this.#window += growth;
      grant += growth;
    }
    this.#allowance += grant;
    return grant;
  }
}
