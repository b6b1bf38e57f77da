/**
 * A read-only picture of the relay core for the admin API and metrics: sessions, advertised servers,
 * joined streams, idle pools and penalties. It names accounts and ids, never an address or a key.
 */
import type { PortRole } from '../../shared/protocol/messages.js';
import type { RelayState } from './relay-state.js';

export interface SessionView {
  id: string;
  account: string;
  role: PortRole;
  since: number;
  streams: number;
  /** Ids a skeleton session holds; idle data connections it keeps at the relay. */
  servers: string[];
  idle: number;
}

export interface ServerView {
  id: string;
  account: string;
  session: string;
  since: number;
  protocol: string;
  description: string;
}

export interface StreamView {
  id: number;
  server: string;
  clientAccount: string;
  skeletonAccount: string;
  clientSession: string;
  since: number;
}

export interface RelaySnapshot {
  sessions: SessionView[];
  servers: ServerView[];
  streams: StreamView[];
  /** Idle skeleton data connections across all sessions. */
  idleConnections: number;
  /** Source addresses currently refused for their penalties. */
  penalised: number;
  unauthenticated: number;
  pendingDials: number;
}

export function relaySnapshot(state: RelayState, now: number): RelaySnapshot {
  const sessions: SessionView[] = [...state.sessions.values()].map((s) => ({
    id: s.sid, account: s.user, role: s.port, since: s.started, streams: s.streams, servers: [...s.servers].sort(), idle: s.pool.length,
  }));
  const servers: ServerView[] = state.registry.all().map((r) => ({
    id: r.info.id, account: r.user, session: r.sid, since: r.since, protocol: r.info.protocol, description: r.info.description,
  })).sort((a, b) => a.id.localeCompare(b.id));
  const streams: StreamView[] = [...state.streams.entries()].map(([id, r]) => ({
    id, server: r.server, since: r.since, clientSession: r.clientSid,
    clientAccount: r.clientUser, skeletonAccount: r.skeletonUser,
  }));
  return {
    sessions, servers, streams,
    idleConnections: sessions.reduce((n, s) => n + s.idle, 0),
    penalised: state.guard.penalised(now),
    unauthenticated: state.guard.unauthenticated,
    pendingDials: state.dials.size,
  };
}
