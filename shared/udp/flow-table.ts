/**
 * The UDP flows of one forwarder (or of one skeleton): a flow per key (a source `address:port`, or a
 * stream), alive while datagrams pass in either direction and over after `idleMs` of silence both ways
 * (RFC 4787 asks for at least 2 minutes; the default is 120 s). At most `maxFlows` at once: one more is
 * refused, never queued, and the caller logs that once per cause. Each flow counts datagrams and bytes
 * each way and the datagrams dropped under congestion; the table keeps the totals of flows gone, for
 * status lines and metrics. Sans-IO: time is given, and the adapter sweeps with `expire(now)`.
 */

export interface FlowCounts {
  datagramsIn: number;
  datagramsOut: number;
  /** Payload bytes toward the server (in) and back (out). */
  bytesIn: number;
  bytesOut: number;
  /** Datagrams dropped because the flow's queue was full (either way). */
  dropped: number;
}

export interface FlowTotals extends FlowCounts {
  /** Flows alive now, ever admitted, and refused by the cap. */
  active: number;
  total: number;
  refused: number;
}

export interface Flow<T> extends FlowCounts {
  readonly key: string;
  /** What the adapter keeps for the flow (its stream, its socket). */
  readonly value: T;
  lastActive: number;
}

export type Admission<T> = { flow: Flow<T>; created: boolean } | { refused: 'cap'; maxFlows: number };

export const DEFAULT_UDP_IDLE_MS = 120_000;

function zero(): FlowCounts {
  return { datagramsIn: 0, datagramsOut: 0, bytesIn: 0, bytesOut: 0, dropped: 0 };
}

export class FlowTable<T> {
  readonly #flows = new Map<string, Flow<T>>();
  /** Counts of flows already removed. */
  readonly #gone: FlowCounts = zero();
  #total = 0;
  #refused = 0;

  /**
   * `aliveBy: 'inbound'`: only datagrams from the source keep a flow alive, not the server's answers. A
   * public port's flows use it: their source may be forged, and a server that streams on its own (or
   * answers large) would otherwise send to the forged address for as long as it likes.
   */
  constructor(readonly opts: { idleMs: number; maxFlows: number; aliveBy?: 'both' | 'inbound' }) {
    if (!(opts.idleMs > 0) || !(opts.maxFlows > 0)) throw new RangeError('idleMs and maxFlows must be positive');
  }

  /** How often an adapter should call expire(): a quarter of the idle time, at most every 5 s. */
  get sweepEveryMs(): number {
    return Math.min(this.opts.idleMs / 4, 5000);
  }

  get size(): number {
    return this.#flows.size;
  }

  get(key: string): Flow<T> | undefined {
    return this.#flows.get(key);
  }

  /** The flow for `key`, made with `make` if there is none and the cap allows; `make` runs only then. */
  admit(key: string, now: number, make: () => T): Admission<T> {
    const known = this.#flows.get(key);
    if (known) return { flow: known, created: false };
    if (this.#flows.size >= this.opts.maxFlows) {
      this.#refused++;
      return { refused: 'cap', maxFlows: this.opts.maxFlows };
    }
    const flow: Flow<T> = { key, value: make(), lastActive: now, ...zero() };
    this.#flows.set(key, flow);
    this.#total++;
    return { flow, created: true };
  }

  /** A datagram toward the server passed (`bytes` of payload); the flow lives on. */
  inbound(flow: Flow<T>, bytes: number, now: number): void {
    flow.datagramsIn++;
    flow.bytesIn += bytes;
    flow.lastActive = now;
  }

  /** A datagram from the server back to the source passed. */
  outbound(flow: Flow<T>, bytes: number, now: number): void {
    flow.datagramsOut++;
    flow.bytesOut += bytes;
    if (this.opts.aliveBy !== 'inbound') flow.lastActive = now;
  }

  /** A datagram was dropped (its queue was full): counted, and no sign of life. */
  drop(flow: Flow<T>): void {
    flow.dropped++;
  }

  /** Ends a flow (its stream closed, or it failed); its counts go to the totals. False if it was gone already. */
  remove(key: string): boolean {
    const flow = this.#flows.get(key);
    if (!flow) return false;
    this.#flows.delete(key);
    for (const k of Object.keys(this.#gone) as (keyof FlowCounts)[]) this.#gone[k] += flow[k];
    return true;
  }

  /**
   * The flow a full public port lets go for a new source (not removed), so sources that stopped sending
   * (forged ones a flood left behind, a DNS client that got its answer) do not hold the table until
   * idleMs passes: the stalest of the flows whose source sent one datagram only, once silent `oneShotMs`;
   * else the stalest of all, once silent `quietMs`. A source that keeps talking, with pauses shorter than
   * `quietMs`, keeps its flow however many one-shot sources a flood brings.
   */
  stalest(now: number, limits: { oneShotMs: number; quietMs: number }): Flow<T> | undefined {
    let oldest: Flow<T> | undefined;
    let oneShot: Flow<T> | undefined;
    for (const flow of this.#flows.values()) {
      if (!oldest || flow.lastActive < oldest.lastActive) oldest = flow;
      if (flow.datagramsIn <= 1 && (!oneShot || flow.lastActive < oneShot.lastActive)) oneShot = flow;
    }
    if (oneShot && now - oneShot.lastActive >= limits.oneShotMs) return oneShot;
    return oldest && now - oldest.lastActive >= limits.quietMs ? oldest : undefined;
  }

  /** Removes and returns the flows silent for idleMs or longer at `now`. */
  expire(now: number): Flow<T>[] {
    const over: Flow<T>[] = [];
    for (const flow of this.#flows.values()) if (now - flow.lastActive >= this.opts.idleMs) over.push(flow);
    for (const flow of over) this.remove(flow.key);
    return over;
  }

  totals(): FlowTotals {
    const sum = { ...this.#gone };
    for (const flow of this.#flows.values()) for (const k of Object.keys(sum) as (keyof FlowCounts)[]) sum[k] += flow[k];
    return { ...sum, active: this.#flows.size, total: this.#total, refused: this.#refused };
  }

  values(): IterableIterator<Flow<T>> {
    return this.#flows.values();
  }
}
