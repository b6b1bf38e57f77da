/**
 * Client streams waiting for a skeleton to dial in, by dial id, with how many each account has waiting:
 * a waiting stream holds its client's connection (and what it sent early) at the relay, so an account
 * may have at most --max-waiting-streams of them at once (relay-broker.ts refuses more with ERR_LIMIT).
 */
import type { ConnId, RemoteHolder } from './relay-events.js';

export interface PendingDial {
  client: ConnId;
  clientSid: string;
  /** The client's account: what the stream counts against even after its session has ended. */
  clientUser: string;
  skeletonSid: string;
  server: string;
  /** Cluster: the skeleton session lives at another relay and attaches here with a ticket. */
  remote?: RemoteHolder;
  /** A public connection of this publication url, not a client stream. */
  publication?: string;
}

export class DialTable {
  readonly #dials = new Map<string, PendingDial>();
  readonly #waiting = new Map<string, number>();

  get size(): number {
    return this.#dials.size;
  }

  get(dial: string): PendingDial | undefined {
    return this.#dials.get(dial);
  }

  has(dial: string): boolean {
    return this.#dials.has(dial);
  }

  /** Streams of `user` waiting for a dial right now. */
  waitingOf(user: string): number {
    return this.#waiting.get(user) ?? 0;
  }

  add(dial: string, pending: PendingDial): void {
    this.#dials.set(dial, pending);
    this.#waiting.set(pending.clientUser, this.waitingOf(pending.clientUser) + 1);
  }

  /** Removes a dial (joined, failed or timed out) and returns it. */
  take(dial: string): PendingDial | undefined {
    const pending = this.#dials.get(dial);
    if (!pending) return undefined;
    this.#dials.delete(dial);
    const n = this.waitingOf(pending.clientUser) - 1;
    if (n > 0) this.#waiting.set(pending.clientUser, n);
    else this.#waiting.delete(pending.clientUser);
    return pending;
  }

  [Symbol.iterator](): IterableIterator<[string, PendingDial]> {
    return this.#dials[Symbol.iterator]();
  }

  values(): IterableIterator<PendingDial> {
    return this.#dials.values();
  }
}
