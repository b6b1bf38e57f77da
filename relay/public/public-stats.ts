/**
 * Counters of public ingress per publication (the metrics' and the admin API's): connections admitted,
 * open, bytes each way of finished streams, and refusals by reason. Refusals before a publication is
 * known (unknown host, slow head, a cap at the shared port) count under the listener (`http`, `https`).
 * Bounded: one entry per publication url or listener, and urls live only while published or counted.
 */
export type RefusalReason = 'denied' | 'source-cap' | 'source-rate' | 'publication-cap' | 'total-cap'
  | 'head-timeout' | 'bad-head' | 'unknown-host' | 'gone-for-now' | 'unreachable' | 'not-tls' | 'no-sni' | 'pipeline-flood' | 'flow-rate' | 'evicted';

export interface PublicationCounters {
  connections: number;
  open: number;
  bytesClientToServer: number;
  bytesServerToClient: number;
  refusals: Partial<Record<RefusalReason, number>>;
}

/** Most entries kept: publications come and go, and a relay counts at most this many at once. */
const MAX_ENTRIES = 4096;

export class PublicStats {
  readonly #entries = new Map<string, PublicationCounters>();
  /** Refusals another part counts itself (the HTTP front's 404s and slow heads), merged in when read. */
  readonly #sources = new Map<string, () => Partial<Record<RefusalReason, number>>>();

  addSource(key: string, read: () => Partial<Record<RefusalReason, number>>): void {
    this.#sources.set(key, read);
  }

  #merged(key: string, entry: PublicationCounters | undefined): PublicationCounters | undefined {
    const read = this.#sources.get(key);
    if (!read) return entry;
    const base = entry ?? { connections: 0, open: 0, bytesClientToServer: 0, bytesServerToClient: 0, refusals: {} };
    const refusals = { ...base.refusals };
    for (const [reason, n] of Object.entries(read()) as [RefusalReason, number][]) if (n > 0) refusals[reason] = (refusals[reason] ?? 0) + n;
    return { ...base, refusals };
  }

  #entry(key: string): PublicationCounters | undefined {
    let entry = this.#entries.get(key);
    if (!entry) {
      if (this.#entries.size >= MAX_ENTRIES) this.#forgetIdle();
      if (this.#entries.size >= MAX_ENTRIES) return undefined;
      entry = { connections: 0, open: 0, bytesClientToServer: 0, bytesServerToClient: 0, refusals: {} };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  #forgetIdle(): void {
    for (const [key, entry] of this.#entries) if (entry.open === 0) this.#entries.delete(key);
  }

  opened(key: string): void {
    const entry = this.#entry(key);
    if (!entry) return;
    entry.connections++;
    entry.open++;
  }

  closed(key: string, bytes: { clientToServer: number; serverToClient: number }): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    entry.open = Math.max(0, entry.open - 1);
    entry.bytesClientToServer += bytes.clientToServer;
    entry.bytesServerToClient += bytes.serverToClient;
  }

  refused(key: string, reason: RefusalReason): void {
    const entry = this.#entry(key);
    if (entry) entry.refusals[reason] = (entry.refusals[reason] ?? 0) + 1;
  }

  get(key: string): PublicationCounters | undefined {
    return this.#merged(key, this.#entries.get(key));
  }

  all(): [string, PublicationCounters][] {
    const keys = new Set([...this.#entries.keys(), ...this.#sources.keys()]);
    return [...keys].map((key) => [key, this.get(key)!]);
  }
}
