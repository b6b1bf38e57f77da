/**
 * The client's session as a state machine, like the relay's and the skeleton's cores: events and the
 * time go in, commands come out; client/io/client-session.ts owns the sockets and the one timer.
 *
 * It logs in on demand, tries the relays of a cluster in turn when a failure's code says another may
 * not have it (`failover` in shared/errors.ts), and, for a long-running forwarder (`keepAlive`), logs
 * in again in the background after a lost session (backoff by the code's retry policy) or after the
 * relay's Goodbye (its retryAfter plus jitter, backoff untouched). Requests that want a session while
 * one is being made again wait for it, up to `waitMs`, instead of failing at once or logging in
 * themselves: a relay restart costs them a short wait, not an error.
 */
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from '../../shared/backoff.js';
import { ERROR_CODES, type ErrorCode } from '../../shared/errors.js';

export type ClientEvent =
  /** Request `id` needs a live session. */
  | { type: 'want'; id: number }
  | { type: 'logged-in'; relay: number }
  | { type: 'login-failed'; relay: number; code: ErrorCode }
  /** The live session's control channel closed. */
  | { type: 'lost'; code: ErrorCode }
  /** The relay said Goodbye on the live session: it is going away on purpose. */
  | { type: 'goodbye'; retryAfterMs: number }
  /** A request on the live session failed with `code`; the core says (`failover`) whether to try another relay. */
  | { type: 'request-failed'; code: ErrorCode }
  /**
   * keepAlive: the first login failed for a reason retrying can fix (no relay yet): keep trying in the
   * background from now on, as after a lost session, instead of waiting for the next request.
   */
  | { type: 'keep-trying' }
  | { type: 'tick' }
  | { type: 'close' };

export type ClientCommand =
  | { type: 'login'; relay: number }
  /** Resolve these requests with the live session. */
  | { type: 'grant'; ids: number[] }
  | { type: 'reject'; ids: number[]; code: ErrorCode }
  /** Close the live session's control channel without reporting it lost. */
  | { type: 'drop-session' }
  /** The request that failed may be tried again, on the session the next want makes. */
  | { type: 'failover'; code: ErrorCode }
  /** Goodbye: open nothing new on what the old relay carries, and end it once its work is done. */
  | { type: 'drain' }
  | { type: 'retry-in'; afterMs: number; code: ErrorCode }
  /** Retrying cannot fix `code` (a refused account or relay key): the client has closed. */
  | { type: 'fatal'; code: ErrorCode };

export interface ClientCoreOptions {
  relays: number;
  keepAlive: boolean;
  /** How long a request waits for a session being made again (keepAlive) before it fails; default 10 s. */
  waitMs?: number;
  backoff?: BackoffOptions;
  random?: () => number;
}

type Phase = 'idle' | 'login' | 'live' | 'waiting' | 'closed';

export const SESSION_WAIT_MS = 10_000;

export class ClientCore {
  #phase: Phase = 'idle';
  /** Relay index to try first in the next round: the last one that worked, or the one after a lost one. */
  #first = 0;
  #current = 0;
  #tried = 0;
  #everLive = false;
  #retryAt: number | undefined;
  #lastCode: ErrorCode = 'ERR_RELAY_UNREACHABLE';
  /** Requests waiting for a session, with the time they give up (undefined: until this login round ends). */
  readonly #waiters = new Map<number, number | undefined>();
  readonly #backoff: Backoff;
  readonly #random: () => number;
  readonly #waitMs: number;

  constructor(private readonly opts: ClientCoreOptions) {
    this.#random = opts.random ?? Math.random;
    this.#backoff = new Backoff(opts.backoff ?? DEFAULT_BACKOFF, this.#random);
    this.#waitMs = opts.waitMs ?? SESSION_WAIT_MS;
  }

  get phase(): Phase {
    return this.#phase;
  }

  /** The earliest time the core wants a tick (a retry or a waiter's deadline), if any. */
  nextDeadline(): number | undefined {
    let next = this.#phase === 'waiting' ? this.#retryAt : undefined;
    for (const deadline of this.#waiters.values()) if (deadline !== undefined && (next === undefined || deadline < next)) next = deadline;
    return next;
  }

  handle(event: ClientEvent, now: number): ClientCommand[] {
    const out: ClientCommand[] = [];
    if (this.#phase === 'closed') {
      if (event.type === 'want') out.push({ type: 'reject', ids: [event.id], code: 'ERR_CONNECTION_CLOSED' });
      return out;
    }
    switch (event.type) {
      case 'want':
        this.#want(event.id, now, out);
        break;
      case 'logged-in':
        this.#phase = 'live';
        this.#everLive = true;
        this.#first = event.relay;
        this.#backoff.connected(now);
        this.#retryAt = undefined;
        if (this.#waiters.size > 0) out.push({ type: 'grant', ids: this.#takeWaiters() });
        break;
      case 'login-failed':
        this.#loginFailed(event.relay, event.code, now, out);
        break;
      case 'lost':
        if (this.#phase !== 'live') break;
        this.#afterSession(now, out, event.code, undefined);
        break;
      case 'goodbye':
        if (this.#phase !== 'live') break;
        out.push({ type: 'drain' });
        // A little jitter so every peer of a restarting relay does not return in the same millisecond.
        this.#afterSession(now, out, 'ERR_SHUTTING_DOWN', event.retryAfterMs + Math.floor(this.#random() * 1000));
        break;
      case 'request-failed':
        if (this.#phase !== 'live' || this.opts.relays < 2 || !ERROR_CODES[event.code].failover) break;
        out.push({ type: 'drop-session' }, { type: 'failover', code: event.code });
        this.#first = (this.#first + 1) % this.opts.relays;
        this.#phase = 'idle';
        break;
      case 'keep-trying':
      {
        const policy = ERROR_CODES[this.#lastCode].retry;
        if (!this.opts.keepAlive || this.#phase !== 'idle' || policy === 'stop') break;
        this.#everLive = true;
        this.#schedule(now, now + this.#backoff.next(now, policy), this.#lastCode, out);
        break;
      }
      case 'tick':
        this.#tick(now, out);
        break;
      case 'close':
        this.#phase = 'closed';
        out.push({ type: 'drop-session' });
        if (this.#waiters.size > 0) out.push({ type: 'reject', ids: this.#takeWaiters(), code: 'ERR_CONNECTION_CLOSED' });
        break;
    }
    return out;
  }

  #want(id: number, now: number, out: ClientCommand[]): void {
    if (this.#phase === 'live') {
      out.push({ type: 'grant', ids: [id] });
      return;
    }
    // Only a request that waits for a background login gets a deadline; one that starts a round waits for its end.
    const background = this.opts.keepAlive && this.#everLive;
    this.#waiters.set(id, background ? now + this.#waitMs : undefined);
    if (this.#phase === 'idle') this.#startRound(out);
  }

  #startRound(out: ClientCommand[]): void {
    this.#phase = 'login';
    this.#tried = 1;
    this.#current = this.#first;
    this.#retryAt = undefined;
    out.push({ type: 'login', relay: this.#current });
  }

  #loginFailed(relay: number, code: ErrorCode, now: number, out: ClientCommand[]): void {
    if (this.#phase !== 'login' || relay !== this.#current) return;
    this.#lastCode = code;
    const spec = ERROR_CODES[code];
    if (spec.retry !== 'stop' && spec.failover && this.#tried < this.opts.relays) {
      this.#tried++;
      this.#current = (this.#current + 1) % this.opts.relays;
      out.push({ type: 'login', relay: this.#current });
      return;
    }
    const background = this.opts.keepAlive && this.#everLive;
    if (spec.retry === 'stop') {
      if (this.#waiters.size > 0) out.push({ type: 'reject', ids: this.#takeWaiters(), code });
      if (background) {
        this.#phase = 'closed';
        out.push({ type: 'fatal', code });
      } else {
        this.#phase = 'idle';
      }
      return;
    }
    if (!background) {
      // A one-shot client, or the first login of any: the caller hears the failure now.
      this.#phase = 'idle';
      if (this.#waiters.size > 0) out.push({ type: 'reject', ids: this.#takeWaiters(), code });
      return;
    }
    // Waiters that came with this round give up now; those with a deadline keep waiting for the next one.
    const undated = [...this.#waiters].filter(([, deadline]) => deadline === undefined).map(([id]) => id);
    for (const id of undated) this.#waiters.delete(id);
    if (undated.length > 0) out.push({ type: 'reject', ids: undated, code });
    this.#schedule(now, now + this.#backoff.next(now, spec.retry), code, out);
  }

  /** The live session ended (lost, or a Goodbye with its own delay): log in again later if keepAlive. */
  #afterSession(now: number, out: ClientCommand[], code: ErrorCode, afterMs: number | undefined): void {
    this.#lastCode = code;
    // Lost or said goodbye: the next round starts with the next relay address.
    if (this.opts.relays > 1) this.#first = (this.#first + 1) % this.opts.relays;
    if (!this.opts.keepAlive) {
      this.#phase = 'idle';
      return;
    }
    const policy = ERROR_CODES[code].retry;
    if (policy === 'stop') {
      this.#phase = 'closed';
      out.push({ type: 'fatal', code });
      return;
    }
    this.#schedule(now, now + (afterMs ?? this.#backoff.next(now, policy)), code, out);
  }

  #schedule(now: number, at: number, code: ErrorCode, out: ClientCommand[]): void {
    this.#phase = 'waiting';
    this.#retryAt = at;
    out.push({ type: 'retry-in', afterMs: at - now, code });
  }

  #tick(now: number, out: ClientCommand[]): void {
    const late = [...this.#waiters].filter(([, deadline]) => deadline !== undefined && deadline <= now).map(([id]) => id);
    for (const id of late) this.#waiters.delete(id);
    if (late.length > 0) out.push({ type: 'reject', ids: late, code: this.#lastCode });
    if (this.#phase === 'waiting' && this.#retryAt !== undefined && now >= this.#retryAt) this.#startRound(out);
  }

  #takeWaiters(): number[] {
    const ids = [...this.#waiters.keys()];
    this.#waiters.clear();
    return ids;
  }
}
