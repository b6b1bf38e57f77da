/**
 * Logins waiting for their password check, owned by the core so that the argon2 work a peer can queue
 * is bounded, fair and cancellable:
 * - at most `perSource` logins per source address (or IPv6 /64) waiting or running, and at most `total`
 *   waiting over all sources; past either the login is refused at once, before any work;
 * - sources take turns (round robin), so one address with many logins delays another by one check at most;
 * - sources that have logged in before go first (`priority`), one login each, so an attack from
 *   addresses that never logged in cannot delay the people who do; the `total` cap does not apply to
 *   those first logins; but every third turn goes to the other lane while it has logins waiting, so
 *   trusted addresses (an account holder looping logins) cannot starve newcomers either;
 * - a login whose connection goes while it waits is simply removed: no work is ever started for it.
 * At most `concurrency` checks run at once; the adapter reports each one's end, and the next starts.
 */
import type { ConnId } from './relay-events.js';

export type LoginAdmission = 'queued' | 'source-full' | 'queue-full';

/** At most this many priority logins start in a row while other logins wait: the rest get every third turn. */
const PRIORITY_RUN = 2;

export class LoginQueue {
  /** Waiting logins per source, oldest first, sources in turn order: the priority lane, then the rest. */
  readonly #lanes = [new Map<string, ConnId[]>(), new Map<string, ConnId[]>()] as const;
  /** Running checks per source, and the source of each running check's connection. */
  readonly #running = new Map<string, number>();
  readonly #runningConns = new Map<ConnId, string>();
  #waitingTotal = 0;
  /** Priority logins started in a row (see PRIORITY_RUN). */
  #priorityRun = 0;
  #runningTotal = 0;

  constructor(readonly limits: { concurrency: number; perSource: number; total: number }) {}

  get waiting(): number {
    return this.#waitingTotal;
  }

  get running(): number {
    return this.#runningTotal;
  }

  isRunning(conn: ConnId): boolean {
    return this.#runningConns.has(conn);
  }

  /** Logins of one source waiting or running. */
  ofSource(source: string): number {
    const waiting = (this.#lanes[0].get(source)?.length ?? 0) + (this.#lanes[1].get(source)?.length ?? 0);
    return waiting + (this.#running.get(source) ?? 0);
  }

  add(source: string, conn: ConnId, priority = false): LoginAdmission {
    if (this.ofSource(source) >= this.limits.perSource) return 'source-full';
    // One login per source waits in the priority lane; more from it take their turn with everyone else.
    const first = priority && !this.#lanes[0].has(source);
    if (!first && this.#waitingTotal >= this.limits.total) return 'queue-full';
    const lane = this.#lanes[first ? 0 : 1];
    const list = lane.get(source);
    if (list) list.push(conn);
    else lane.set(source, [conn]);
    this.#waitingTotal++;
    return 'queued';
  }

  /** Removes a login that has not started; false if it was not waiting (running, or unknown). */
  remove(source: string, conn: ConnId): boolean {
    for (const lane of this.#lanes) {
      const list = lane.get(source);
      const at = list ? list.indexOf(conn) : -1;
      if (!list || at < 0) continue;
      list.splice(at, 1);
      if (list.length === 0) lane.delete(source);
      this.#waitingTotal--;
      return true;
    }
    return false;
  }

  /** Logins to start now, each counted as running until finished() is called for its connection. */
  start(): { source: string; conn: ConnId }[] {
    const started: { source: string; conn: ConnId }[] = [];
    while (this.#runningTotal < this.limits.concurrency && this.#waitingTotal > 0) {
      // The priority lane goes first, but never more than PRIORITY_RUN times in a row while others wait:
      // addresses that logged in before cannot starve everyone else, whatever they send.
      const usePriority = this.#lanes[0].size > 0 && (this.#lanes[1].size === 0 || this.#priorityRun < PRIORITY_RUN);
      this.#priorityRun = usePriority ? this.#priorityRun + 1 : 0;
      const lane = this.#lanes[usePriority ? 0 : 1];
      const [source, list] = lane.entries().next().value as [string, ConnId[]];
      const conn = list.shift()!;
      lane.delete(source);
      // The source goes to the back of its lane's turn order if it has more waiting.
      if (list.length > 0) lane.set(source, list);
      this.#waitingTotal--;
      this.#running.set(source, (this.#running.get(source) ?? 0) + 1);
      this.#runningConns.set(conn, source);
      this.#runningTotal++;
      started.push({ source, conn });
    }
    return started;
  }

  /** A running check ended (whatever its result, and whether or not its connection is still there). */
  finished(conn: ConnId): void {
    const source = this.#runningConns.get(conn);
    if (source === undefined) return;
    this.#runningConns.delete(conn);
    const n = this.#running.get(source) ?? 0;
    if (n === 1) this.#running.delete(source);
    else this.#running.set(source, n - 1);
    this.#runningTotal--;
  }
}
