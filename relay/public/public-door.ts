/**
 * The front door as the public listeners use it: a connection is admitted when it arrives (the
 * relay-wide caps: per source over all public ports, connections still reading their head, all public
 * connections), and again per publication once it is known (its allow and deny lists, its connection
 * cap, per-source caps and rate). Every refusal is counted per publication and reason, and logged once
 * per source and reason per window. A publication's rules are parsed once per change of its record.
 */
import { limitedLine, LogLimiter } from '../../shared/log-limiter.js';
import type { Logger } from '../../shared/log.js';
import type { Publication } from '../../shared/protocol/messages.js';
import type { PublicationRecord } from '../core/publication-registry.js';
import { parseCidrList, type CidrList } from './cidr-list.js';
import { DEFAULT_FRONT_DOOR_LIMITS, FrontDoor, type Admission, type FrontDoorLimits, type PublicationRules } from './front-door.js';
import { RefusalLog } from './refusal-log.js';
import type { PublicStats, RefusalReason } from './public-stats.js';

/** Per-publication checks only: the relay-wide ones were made on arrival. */
const UNBOUNDED: FrontDoorLimits = {
  perSourceConns: Infinity, perSourceRate: Infinity, perSourceBurst: Infinity, maxTotal: Infinity, maxReadingHeads: Infinity, perSourceReadingHeads: Infinity, maxTrackedSources: 65_536,
  udpFlowRate: Infinity,
  udpMaxFlows: Infinity,
};

type Rules = Omit<Publication, 'server' | 'url'>;

function listOf(entries: string[]): CidrList {
  const parsed = parseCidrList(entries);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.list;
}
const NOBODY = listOf([]);
const EVERYBODY = listOf(['0.0.0.0/0', '::/0']);

export class PublicDoor {
  readonly #arrivals: FrontDoor;
  /**
   * The relay-wide checks for udp flows, counted apart from connections: a flow's source may be forged,
   * so forged flows must not take the connections' relay-wide cap (`--public-max-conns`: 10 udp
   * publications of forged flows closed every public port, third outside attack) nor a real address's
   * per-source share (a flood forging a victim's address would shut the victim's own connections out).
   */
  readonly #datagramArrivals: FrontDoor;
  readonly #publications = new FrontDoor(UNBOUNDED);
  readonly #parsed = new WeakMap<Rules, PublicationRules>();
  readonly #log = new RefusalLog();
  /** Refusals at udp publications, logged per publication and reason (their sources may be forged). */
  readonly #datagramLines = new LogLimiter(60_000);

  constructor(
    private readonly stats: PublicStats,
    private readonly log: Logger,
    limits: Partial<FrontDoorLimits> = {},
  ) {
    this.#arrivals = new FrontDoor({ ...DEFAULT_FRONT_DOOR_LIMITS, ...limits });
    this.#datagramArrivals = new FrontDoor({ ...DEFAULT_FRONT_DOOR_LIMITS, ...limits });
  }

  /**
   * A datagram from a new public source at a udp publication: the relay-wide checks of `arrive`, then the
   * publication's own of `route`, as for a connection. A UDP source address can be forged, so a refusal
   * is logged once per publication and reason per window, not per source (forged sources are many).
   */
  arriveDatagram(source: string, pub: PublicationRecord): Admission[] | undefined {
    const arrival = this.#datagramArrivals.admit(source, pub.url, {}, Date.now(), true);
    if (!arrival.ok) return void this.refusedDatagram(source, pub.url, arrival.reason);
    const routed = this.#publications.admit(source, pub.url, this.#rules(pub.rules), Date.now(), true);
    if (!routed.ok) {
      arrival.release();
      return void this.refusedDatagram(source, pub.url, routed.reason);
    }
    routed.headRead();
    return [arrival, routed];
  }

  /** A refusal at a udp publication: counted, and logged once per publication and reason per window. */
  refusedDatagram(source: string, url: string, reason: RefusalReason): void {
    this.stats.refused(url, reason);
    limitedLine(this.#datagramLines, `${url} ${reason}`, Date.now(), (extra) => this.log.info({ publication: url, reason, source, ...extra }, 'public udp flow refused'));
  }

  /** A connection arrives at a listener (`http`, `https`, or a tcp publication's url: `headless`, nothing to read first). */
  arrive(source: string, listener: string, headless = false): Admission {
    const admission = this.#arrivals.admit(source, listener, {}, Date.now(), headless);
    if (!admission.ok) this.refused(source, listener, admission.reason);
    return admission;
  }

  /** The connection names a publication: its own rules apply; the admission is released with the connection. */
  route(source: string, pub: PublicationRecord): Admission {
    const admission = this.#publications.admit(source, pub.url, this.#rules(pub.rules), Date.now(), true);
    if (!admission.ok) {
      this.refused(source, pub.url, admission.reason);
      return admission;
    }
    admission.headRead();
    return admission;
  }

  refused(source: string, key: string, reason: RefusalReason): void {
    this.stats.refused(key, reason);
    this.#log.note(source, key, reason, Date.now(), (line) => this.log.info(line, 'public connection refused'));
  }

  /** Connections admitted at the listeners and not yet closed. */
  get open(): number {
    return this.#arrivals.open;
  }

  #rules(rules: Rules): PublicationRules {
    let parsed = this.#parsed.get(rules);
    if (!parsed) {
      parsed = {};
      // The relay's core checked every entry (cidr.ts) before accepting the publication.
      const allow = rules.allow ? parseCidrList(rules.allow) : undefined;
      const deny = rules.deny ? parseCidrList(rules.deny) : undefined;
      // Fail closed all the same: an allow list that did not parse admits nobody, a deny list denies everyone.
      if (allow) parsed.allow = allow.ok ? allow.list : NOBODY;
      if (deny) parsed.deny = deny.ok ? deny.list : EVERYBODY;
      if (rules.maxConns !== undefined) parsed.maxConns = rules.maxConns;
      if (rules.rate !== undefined) parsed.perSourceRate = rules.rate;
      this.#parsed.set(rules, parsed);
    }
    return parsed;
  }
}
