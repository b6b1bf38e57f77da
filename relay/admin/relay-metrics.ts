/**
 * Prometheus metrics of one relay, in its own prom-client Registry (never the global one, so several
 * relays in one process keep their numbers apart). Counters follow the core's notes and finished
 * streams; gauges read a snapshot at scrape time. Byte counters include live streams, read from
 * their sockets, so a long stream shows its traffic while it runs.
 */
import { processMetrics } from './process-metrics.js';
import { Counter, Gauge, Histogram, Registry } from './prom.js';
import type { LoginFailure, RelayNote } from '../core/relay-events.js';
import type { RelaySnapshot } from '../core/relay-snapshot.js';
import type { StreamAudit } from '../io/relay-runtime.js';
import type { DirectionBytes } from '../io/live-streams.js';
import type { PublicationView } from './publications-view.js';
import { publicationMetrics } from './publication-metrics.js';

export const LOGIN_FAILURE_REASONS: readonly LoginFailure[] = ['bad-login', 'unknown-user', 'bad-password', 'disabled', 'wrong-role', 'throttled', 'session-limit', 'abandoned'];
const ROLES = ['client', 'skeleton'] as const;

/** What the metrics read from the relay; RelayRuntime provides it. */
export interface MetricsSource {
  on(event: 'note', listener: (note: RelayNote) => void): unknown;
  on(event: 'stream-closed', listener: (audit: StreamAudit) => void): unknown;
  snapshot(): RelaySnapshot;
  totalBytes(): DirectionBytes;
}

const label = (reason: string): string => reason.replace(/-/g, '_');

export class RelayMetrics {
  readonly registry = new Registry();
  #snapshot: RelaySnapshot | undefined;
  readonly #withProcess: boolean;

  constructor(source: MetricsSource, opts: { processMetrics?: boolean; publications?: () => PublicationView[] } = {}) {
    this.#withProcess = opts.processMetrics !== false;
    const registers = [this.registry];
    // One snapshot per scrape, taken by the first gauge that asks, dropped once the scrape is done.
    const snap = (): RelaySnapshot => {
      if (!this.#snapshot) {
        this.#snapshot = source.snapshot();
        queueMicrotask(() => (this.#snapshot = undefined));
      }
      return this.#snapshot;
    };
    const gauge = (name: string, help: string, read: (s: RelaySnapshot) => number): void => {
      new Gauge({ name, help, registers, collect() { this.set(read(snap())); } });
    };
    new Gauge({
      name: 'burrow_sessions_active', help: 'Logged-in sessions, by role', labelNames: ['role'], registers,
      collect() {
        const sessions = snap().sessions;
        for (const role of ROLES) this.set({ role }, sessions.filter((s) => s.role === role).length);
      },
    });
    gauge('burrow_skeletons_connected', 'Skeleton sessions logged in', (s) => s.sessions.filter((x) => x.role === 'skeleton').length);
    gauge('burrow_servers_advertised', 'Server ids currently advertised', (s) => s.servers.length);
    gauge('burrow_streams_active', 'Streams currently spliced', (s) => s.streams.length);
    gauge('burrow_pool_idle_connections', 'Idle skeleton data connections parked at the relay', (s) => s.idleConnections);
    gauge('burrow_penalised_sources', 'Source addresses (IPv4, or IPv6 /64) currently refused for failed attempts', (s) => s.penalised);
    gauge('burrow_unauthenticated_connections', 'Connections not yet logged in or attached', (s) => s.unauthenticated);
    gauge('burrow_dials_pending', 'Client streams waiting for a skeleton to dial in', (s) => s.pendingDials);

    if (opts.publications) publicationMetrics(registers, opts.publications);
    const streams = new Counter({ name: 'burrow_streams_total', help: 'Streams joined since start', registers });
    const closed = new Counter({ name: 'burrow_streams_closed_total', help: 'Streams finished, by close reason', labelNames: ['reason'], registers });
    new Counter({
      name: 'burrow_stream_bytes_total', help: 'Stream bytes carried, live streams included', labelNames: ['direction'], registers,
      collect() {
        const total = source.totalBytes();
        this.reset();
        this.inc({ direction: 'client_to_server' }, total.clientToServer);
        this.inc({ direction: 'server_to_client' }, total.serverToClient);
      },
    });
    const ok = new Counter({ name: 'burrow_login_successes_total', help: 'Successful logins, by role', labelNames: ['role'], registers });
    const failed = new Counter({ name: 'burrow_login_failures_total', help: 'Refused logins, by role and reason', labelNames: ['role', 'reason'], registers });
    const refused = new Counter({ name: 'burrow_connections_refused_total', help: 'Connections refused before a handshake, by reason', labelNames: ['reason'], registers });
    const dial = new Histogram({
      name: 'burrow_dial_latency_seconds', help: "Time from a client's open to its join with a skeleton data connection", registers,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    // Every label combination exists from the start, so a rate() never misses its first increment.
    for (const role of ROLES) {
      ok.inc({ role }, 0);
      for (const reason of LOGIN_FAILURE_REASONS) failed.inc({ role, reason: label(reason) }, 0);
    }
    for (const reason of ['throttled', 'busy']) refused.inc({ reason }, 0);

    source.on('note', (note) => {
      switch (note.kind) {
        case 'login':
          if (note.ok) ok.inc({ role: note.port });
          else failed.inc({ role: note.port, reason: label(note.reason) });
          return;
        case 'refused':
          return void refused.inc({ reason: note.reason });
        case 'joined':
          streams.inc();
          return void dial.observe(note.waitedMs / 1000);
        case 'session-ended':
          return;
      }
    });
    source.on('stream-closed', (audit) => {
      closed.inc({ reason: audit.reason === 'ok' || audit.reason === 'operator' ? audit.reason : 'error' });
    });
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.#withProcess ? Registry.merge([this.registry, processMetrics()]).metrics() : this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
