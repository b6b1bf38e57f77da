/**
 * Admission at the public ports (issue 16, "the front door holds"): whether a connection from a source
 * address to a publication may go on, decided before any byte of it is read, sans clock (time is given).
 * In order, each refusal its own reason:
 * - `denied`: the publication's deny list names the source, or it has an allow list that does not
 *   (deny wins);
 * - `total-cap`: the relay holds `maxTotal` public connections already, or `maxReadingHeads` of them are
 *   still in their head-reading phase (request head or ClientHello, up to 32 KiB buffered each: the cap
 *   bounds that memory to tens of MB however many slow sources send them, whatever the deadline);
 * - `publication-cap`: the publication holds its `maxConns`;
 * - `source-cap`: the source holds `perSourceConns` over all public ports, or the publication's own;
 * - `source-rate`: the source opened more than its burst of new connections and is over its rate, over
 *   all ports (`perSourceRate`, `perSourceBurst`) or at this publication (the publication's own).
 * Caps are checked before rates, so a refusal for a cap costs no token; a refusal for rate does.
 *
 * Sources are counted per penalty unit, SourceGuard's: an IPv4 address, or the /64 of an IPv6 address,
 * since one subscriber (one home, one VM) is normally given a whole /64 and can pick any address in it:
 * counting per address would give a single host 2^64 fresh budgets. Allow and deny lists look at the
 * full address. All tables are bounded (see source-counters.ts): busy entries by the caps, idle ones by
 * `maxTrackedSources`.
 */
import { sourceKey } from '../core/source-guard.js';
import type { CidrList } from './cidr-list.js';
import { SourceCounters } from './source-counters.js';

export interface FrontDoorLimits {
  /** Concurrent public connections of one source over all public ports. */
  perSourceConns: number;
  /** New public connections per second of one source over all public ports, after a burst of perSourceBurst. */
  perSourceRate: number;
  perSourceBurst: number;
  /** Public connections open at once over the whole relay (head being read or already spliced). */
  maxTotal: number;
  /** Of those, connections whose request head or ClientHello is still being read (headRead() not called). */
  maxReadingHeads: number;
  /** Of those, from one source: a few sources cannot hold the relay-wide share of slow heads. */
  perSourceReadingHeads: number;
  /** Idle sources remembered per table (relay-wide, and per publication): the bound on their memory. */
  maxTrackedSources: number;
  /**
   * New flows per second at one udp publication, after a burst of twice that (read by udp-front.ts, not
   * here): a UDP source address is not proven, so per-source limits do not hold against forged ones, and
   * every flow costs a leg to its skeleton (a handshake at both ends). Per publication, taken after every
   * other check, so a flood at one publication, or of refused sources, spends no one else's budget.
   */
  udpFlowRate: number;
  /**
   * Flows one udp publication holds at once whatever its max-conns (read by udp-front.ts; each is a leg
   * to the skeleton): by default the share of one server's public flows at a skeleton with the default
   * --max-udp-flows (4096 / 4), so the relay does not open legs the skeleton would refuse. When full, a
   * silent flow gives way (udp-front.ts, EVICT_AFTER).
   */
  udpMaxFlows: number;
}

export const DEFAULT_FRONT_DOOR_LIMITS: FrontDoorLimits = {
  perSourceConns: 256,
  perSourceRate: 50,
  perSourceBurst: 100,
  maxTotal: 10_000,
  maxReadingHeads: 2_048,
  perSourceReadingHeads: 32,
  maxTrackedSources: 65_536,
  udpFlowRate: 100,
  udpMaxFlows: 1024,
};

/** One publication's front-door rules, parsed once when it is registered. */
export interface PublicationRules {
  allow?: CidrList;
  deny?: CidrList;
  maxConns?: number;
  perSourceConns?: number;
  /** New connections per second of one source to this publication; burst defaults to twice that (at least 1). */
  perSourceRate?: number;
  perSourceBurst?: number;
}

export type Refusal = 'denied' | 'source-cap' | 'source-rate' | 'publication-cap' | 'total-cap';

/**
 * An admitted connection: headRead() once its head is read and it is routed (it stops counting against
 * maxReadingHeads), release() when it closes (whether or not its head was read). Both are idempotent.
 */
export type Admission = { ok: true; headRead(): void; release(): void } | { ok: false; reason: Refusal };

export class FrontDoor {
  readonly #sources: SourceCounters;
  /** Keyed by publication and source unit. */
  readonly #publicationSources: SourceCounters;
  /** Open connections per publication; only publications with some open. */
  readonly #publications = new Map<string, number>();
  #total = 0;
  #reading = 0;
  /** Connections reading their head, per source unit; an entry exists only while it is above zero. */
  readonly #readingBySource = new Map<string, number>();

  constructor(readonly limits: FrontDoorLimits = DEFAULT_FRONT_DOOR_LIMITS) {
    this.#sources = new SourceCounters(limits.maxTrackedSources);
    this.#publicationSources = new SourceCounters(limits.maxTrackedSources);
  }

  /**
   * `headless`: a connection with no head to read (a tcp publication): it neither waits for nor holds a
   * place among the connections reading their heads.
   */
  admit(source: string, publicationKey: string, rules: PublicationRules, now: number, headless = false): Admission {
    if (rules.deny?.matches(source) || (rules.allow && !rules.allow.matches(source))) return refuse('denied');
    const unit = sourceKey(source);
    if (this.#total >= this.limits.maxTotal) return refuse('total-cap');
    if (!headless && this.#reading >= this.limits.maxReadingHeads) return refuse('total-cap');
    if (!headless && (this.#readingBySource.get(unit) ?? 0) >= this.limits.perSourceReadingHeads) return refuse('source-cap');
    const open = this.#publications.get(publicationKey) ?? 0;
    if (rules.maxConns !== undefined && open >= rules.maxConns) return refuse('publication-cap');
    // A NUL cannot occur in an address, so no publication key and unit pair collides with another.
    const pairKey = `${publicationKey}\u0000${unit}`;
    if (this.#sources.open(unit) >= this.limits.perSourceConns) return refuse('source-cap');
    if (rules.perSourceConns !== undefined && this.#publicationSources.open(pairKey) >= rules.perSourceConns) return refuse('source-cap');
    if (!this.#sources.tryTake(unit, now, this.limits.perSourceBurst, this.limits.perSourceRate)) return refuse('source-rate');
    if (rules.perSourceRate !== undefined) {
      const burst = rules.perSourceBurst ?? Math.max(1, 2 * rules.perSourceRate);
      if (!this.#publicationSources.tryTake(pairKey, now, burst, rules.perSourceRate)) return refuse('source-rate');
    }
    const perPublication = rules.perSourceConns !== undefined || rules.perSourceRate !== undefined;
    this.#total++;
    this.#publications.set(publicationKey, open + 1);
    this.#sources.add(unit);
    if (perPublication) this.#publicationSources.add(pairKey);
    let reading = !headless;
    if (reading) {
      this.#reading++;
      this.#readingBySource.set(unit, (this.#readingBySource.get(unit) ?? 0) + 1);
    }
    let released = false;
    const headRead = (): void => {
      if (!reading) return;
      reading = false;
      this.#reading--;
      const left = (this.#readingBySource.get(unit) ?? 1) - 1;
      if (left > 0) this.#readingBySource.set(unit, left);
      else this.#readingBySource.delete(unit);
    };
    return {
      ok: true,
      headRead,
      release: () => {
        if (released) return;
        released = true;
        headRead();
        this.#total--;
        const left = (this.#publications.get(publicationKey) ?? 1) - 1;
        if (left > 0) this.#publications.set(publicationKey, left);
        else this.#publications.delete(publicationKey);
        this.#sources.remove(unit);
        if (perPublication) this.#publicationSources.remove(pairKey);
      },
    };
  }

  /** Public connections admitted and not yet released. */
  get open(): number {
    return this.#total;
  }

  /** Of those, connections still reading their head. */
  get reading(): number {
    return this.#reading;
  }

  /** Open connections of one publication. */
  openOf(publicationKey: string): number {
    return this.#publications.get(publicationKey) ?? 0;
  }

  /** Entries held in the relay-wide and the per-publication source tables (for tests and metrics). */
  get tracked(): { sources: number; publicationSources: number } {
    return { sources: this.#sources.size, publicationSources: this.#publicationSources.size };
  }
}

function refuse(reason: Refusal): Admission {
  return { ok: false, reason };
}
