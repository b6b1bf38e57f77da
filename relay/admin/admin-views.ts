/**
 * The JSON the admin API serves, built from the core's snapshot and the live streams. Accounts, ids,
 * times and byte counts only: never an address, a key or a secret.
 */
import type { RelaySnapshot } from '../core/relay-snapshot.js';
import type { RelayRuntime } from '../io/relay-runtime.js';
import type { FailedLogins } from './failed-logins.js';
import type { PublicationView } from './publications-view.js';

export interface RelayInfo {
  fingerprint: string;
  clientPort: number;
  skeletonPort: number;
  startedAt: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export class AdminViews {
  constructor(
    private readonly runtime: RelayRuntime, private readonly failed: FailedLogins, private readonly info: RelayInfo,
    readonly publications: () => PublicationView[] = () => [],
  ) {}

  servers(snap = this.runtime.snapshot()): object[] {
    return snap.servers.map((s) => ({ id: s.id, account: s.account, session: s.session, onlineSince: iso(s.since), protocol: s.protocol, description: s.description }));
  }

  sessions(snap = this.runtime.snapshot()): object[] {
    return snap.sessions.map((s) => ({ id: s.id, account: s.account, role: s.role, since: iso(s.since), streams: s.streams, servers: s.servers, idleConnections: s.idle }));
  }

  streams(snap = this.runtime.snapshot()): object[] {
    const now = Date.now();
    return snap.streams.map((s) => {
      const bytes = this.runtime.live.bytesOf(s.id) ?? { clientToServer: 0, serverToClient: 0 };
      return {
        id: s.id, server: s.server, clientAccount: s.clientAccount, skeletonAccount: s.skeletonAccount, since: iso(s.since), durationMs: now - s.since,
        bytesClientToServer: bytes.clientToServer, bytesServerToClient: bytes.serverToClient,
      };
    });
  }

  failedLogins(): object[] {
    return this.failed.list();
  }

  /** Everything the dashboard shows, in one poll. */
  overview(): object {
    const snap: RelaySnapshot = this.runtime.snapshot();
    const bytes = this.runtime.totalBytes();
    return {
      time: iso(Date.now()),
      relay: { fingerprint: this.info.fingerprint, clientPort: this.info.clientPort, skeletonPort: this.info.skeletonPort, startedAt: iso(this.info.startedAt) },
      totals: {
        sessions: snap.sessions.length, skeletons: snap.sessions.filter((s) => s.role === 'skeleton').length, servers: snap.servers.length,
        streams: snap.streams.length, idleConnections: snap.idleConnections, penalisedSources: snap.penalised,
        bytesClientToServer: bytes.clientToServer, bytesServerToClient: bytes.serverToClient,
      },
      servers: this.servers(snap),
      sessions: this.sessions(snap),
      streams: this.streams(snap),
      failedLogins: this.failed.list().slice(0, 20),
      publications: this.publications(),
    };
  }
}
