/**
 * The skeleton as a state machine: it decides when to advertise, how many idle data connections to keep
 * at the relay (growing the pool when the relay has to ask for dials), when to dial, and when to
 * reconnect. skeleton/io carries out its commands.
 */
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from '../../shared/backoff.js';
import { ERROR_CODES, type ErrorCode } from '../../shared/errors.js';
import type { RelayControlMessage } from '../../shared/protocol/messages.js';

export type SkeletonEvent =
  /** The skeleton starts: its first login goes through the same path as every later one. */
  | { type: 'start' }
  | { type: 'connected' }
  /** The session was lost, or a login attempt failed (`code` says why; its retry policy decides how long to wait). */
  | { type: 'disconnected'; code: ErrorCode }
  /** The relay is going away on purpose: come back after it says, without growing the backoff. */
  | { type: 'goodbye'; retryAfterMs: number }
  /** The list of servers changed: advertise it again. */
  | { type: 'servers-changed' }
  /** The relay answered an Advertise: these ids are ours now. */
  | { type: 'advertised'; accepted: string[] }
  | { type: 'control'; msg: RelayControlMessage }
  /** A pool connection was bound to a stream, or closed before it was. */
  | { type: 'pool-used' }
  | { type: 'pool-lost' }
  | { type: 'tick' };

export type SkeletonCommand =
  | { type: 'advertise' }
  | { type: 'open-data'; purpose: 'pool' }
  | { type: 'open-data'; purpose: 'dial'; dial: string; server: string; via?: { relay: string; ticket: string } }
  | { type: 'reconnect'; afterMs: number; code: ErrorCode }
  /** Retrying cannot fix `code` (the account, the relay's key): stop, and say so. */
  | { type: 'fatal'; code: ErrorCode };

export interface SkeletonCoreOptions {
  /** Idle data connections to keep at the relay. */
  pool: number;
  /** The most the pool may grow to under demand. */
  poolMax: number;
  backoff?: BackoffOptions;
  random?: () => number;
}

/** A displaced skeleton asks for its ids again every 2 to 4 s until it has them back. */
export const READVERTISE_MS = 2_000;

export class SkeletonCore {
  #connected = false;
  /** Pool connections opened and not yet used or lost. */
  #pooled = 0;
  #target: number;
  /** Ids the relay withdrew (another session of the account took them over), and when to ask again. */
  readonly #withdrawn = new Set<string>();
  #readvertiseAt: number | undefined;
  readonly #backoff: Backoff;
  readonly #random: () => number;

  constructor(private readonly opts: SkeletonCoreOptions) {
    this.#target = opts.pool;
    this.#random = opts.random ?? Math.random;
    this.#backoff = new Backoff(opts.backoff ?? DEFAULT_BACKOFF, this.#random);
  }

  get poolTarget(): number {
    return this.#target;
  }

  get pooled(): number {
    return this.#pooled;
  }

  handle(event: SkeletonEvent, now: number): SkeletonCommand[] {
    const out: SkeletonCommand[] = [];
    switch (event.type) {
      case 'start':
        out.push({ type: 'reconnect', afterMs: 0, code: 'ERR_RELAY_UNREACHABLE' });
        break;
      case 'connected':
        this.#connected = true;
        this.#forgetWithdrawn();
        this.#backoff.connected(now);
        out.push({ type: 'advertise' });
        this.#refill(out);
        break;
      case 'disconnected': {
        this.#connected = false;
        this.#forgetWithdrawn();
        // The relay drops a dead session's pool connections; io reports nothing more about them.
        this.#pooled = 0;
        const policy = ERROR_CODES[event.code].retry;
        if (policy === 'stop') out.push({ type: 'fatal', code: event.code });
        else out.push({ type: 'reconnect', afterMs: this.#backoff.next(now, policy), code: event.code });
        break;
      }
      case 'goodbye':
        this.#connected = false;
        this.#forgetWithdrawn();
        this.#pooled = 0;
        // A little jitter so every skeleton of a restarting relay does not return in the same millisecond.
        out.push({ type: 'reconnect', afterMs: event.retryAfterMs + Math.floor(this.#random() * 1000), code: 'ERR_SHUTTING_DOWN' });
        break;
      case 'servers-changed':
        if (this.#connected) out.push({ type: 'advertise' });
        break;
      case 'advertised':
        for (const id of event.accepted) this.#withdrawn.delete(id);
        if (this.#withdrawn.size === 0) this.#readvertiseAt = undefined;
        break;
      case 'control':
        if (event.msg.t === 'withdrawn') {
          // Displaced by a takeover: advertise again now and then until the ids are ours again
          // (free once the session that took them leaves).
          for (const id of event.msg.servers) this.#withdrawn.add(id);
          this.#readvertiseAt ??= now + this.#readvertiseDelay();
        } else if (event.msg.t === 'dial' && event.msg.relay !== undefined && event.msg.ticket !== undefined) {
          // Another relay of the cluster wants this stream: dial it there; our pool here was not short.
          out.push({ type: 'open-data', purpose: 'dial', dial: event.msg.dial, server: event.msg.server, via: { relay: event.msg.relay, ticket: event.msg.ticket } });
        } else if (event.msg.t === 'dial') {
          // The pool ran dry: serve this stream, and keep one more idle connection from now on.
          this.#target = Math.min(this.opts.poolMax, this.#target + 1);
          out.push({ type: 'open-data', purpose: 'dial', dial: event.msg.dial, server: event.msg.server });
          this.#refill(out);
        }
        break;
      case 'pool-used':
        this.#pooled = Math.max(0, this.#pooled - 1);
        this.#refill(out);
        break;
      case 'pool-lost':
        // Refilled on the next tick, so a relay that refuses pool connections is not hammered.
        this.#pooled = Math.max(0, this.#pooled - 1);
        break;
      case 'tick':
        this.#refill(out);
        if (this.#connected && this.#readvertiseAt !== undefined && now >= this.#readvertiseAt) {
          this.#readvertiseAt = now + this.#readvertiseDelay();
          out.push({ type: 'advertise' });
        }
        break;
    }
    return out;
  }

  /** Ids the relay withdrew from this skeleton and it has not got back yet. */
  get withdrawn(): string[] {
    return [...this.#withdrawn];
  }

  #readvertiseDelay(): number {
    return READVERTISE_MS + Math.floor(this.#random() * READVERTISE_MS);
  }

  #forgetWithdrawn(): void {
    this.#withdrawn.clear();
    this.#readvertiseAt = undefined;
  }

  #refill(out: SkeletonCommand[]): void {
    if (!this.#connected) return;
    while (this.#pooled < this.#target) {
      this.#pooled++;
      out.push({ type: 'open-data', purpose: 'pool' });
    }
  }
}
