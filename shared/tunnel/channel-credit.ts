/**
 * One channel's flow control, sans-IO: what we may still send (the peer's grants), what the peer may
 * still send us, and when to grant more. The receiver grants in steps of a quarter window once its
 * local socket has taken the bytes, plus as much again while the socket keeps up (nothing queued behind
 * the write), so a fast reader's window doubles up to its maximum; a slow one never grows it.
 */
import { CHANNEL_WINDOW, MAX_CHANNEL_WINDOW, PUBLIC_CHANNEL_WINDOW, PUBLIC_MAX_CHANNEL_WINDOW } from './tunnel-frames.js';

const MAX_CREDIT = 0xffff_ffff;

/**
 * Bytes of window growth shared by many channels (all public channels of a relay): a channel grows its
 * receive window past the initial one only with what it takes from here, and gives it back when it ends.
 */
export class GrowthBudget {
  #left: number;

  /** `parent`: a larger budget this one also draws from (one source's share of the relay's). */
  constructor(readonly total: number, private readonly parent?: GrowthBudget) {
    this.#left = total;
  }

  get left(): number {
    return this.#left;
  }

  /** Up to `n` bytes of growth, as much as is left here and in the parent. */
  take(n: number): number {
    let got = Math.min(n, this.#left);
    if (this.parent) got = this.parent.take(got);
    this.#left -= got;
    return got;
  }

  give(n: number): void {
    const back = Math.min(n, this.total - this.#left);
    this.#left += back;
    this.parent?.give(back);
  }
}

/** A tunnel's channel windows: both sides start with `initial`; a fast reader's grows up to `max` (within `budget`, if any). */
export interface ChannelWindows {
  initial: number;
  max: number;
  /** Receiver side only (a local policy, not part of the protocol). */
  budget?: GrowthBudget;
}

export const CLIENT_TUNNEL_WINDOWS: ChannelWindows = { initial: CHANNEL_WINDOW, max: MAX_CHANNEL_WINDOW };
/** The skeleton's side of a public tunnel (its home servers' answers are bounded by their own sockets). */
export const PUBLIC_TUNNEL_WINDOWS: ChannelWindows = { initial: PUBLIC_CHANNEL_WINDOW, max: PUBLIC_MAX_CHANNEL_WINDOW };
/**
 * Window growth all public channels of one relay may have taken at once: what the relay can be made to
 * hold for public clients that stop reading is the initial windows plus this.
 */
export const PUBLIC_GROWTH_BUDGET = 256 * 1024 * 1024;
/** One public source's share of it (an IPv4 address, an IPv6 /64): a few sources cannot take it all. */
export const PUBLIC_SOURCE_GROWTH_BUDGET = 32 * 1024 * 1024;
/**
 * The same at a skeleton, for what public clients upload to home servers that read slowly: a home host
 * is often small, and 64 MiB still lets 16 public uploads run at full window at once.
 */
export const SKELETON_PUBLIC_GROWTH_BUDGET = 64 * 1024 * 1024;

export class ChannelCredit {
  #send: number;
  #allowance: number;
  #window: number;
  readonly #max: number;
  readonly #budget: GrowthBudget | undefined;
  /** Growth taken from the budget so far. */
  #grown = 0;
  #consumed = 0;

  constructor(windows: ChannelWindows = CLIENT_TUNNEL_WINDOWS) {
    this.#send = windows.initial;
    this.#allowance = windows.initial;
    this.#window = windows.initial;
    this.#max = windows.max;
    this.#budget = windows.budget;
  }

  /** The channel is over: its growth goes back to the budget. */
  release(): void {
    this.#budget?.give(this.#grown);
    this.#grown = 0;
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
      let growth = Math.min(this.#window, this.#max - this.#window);
      if (this.#budget) {
        growth = this.#budget.take(growth);
        this.#grown += growth;
      }
      this.#window += growth;
      grant += growth;
    }
    this.#allowance += grant;
    return grant;
  }
}
