/**
 * Control requests that need the cluster's shared state: an Advertise waits for the cluster-wide claim
 * (another account may hold the id at another relay, S9), a listing merges the servers other relays hold,
 * and accounts revoked anywhere lose their sessions here.
 */
import type { ErrorCode } from '../../shared/errors.js';
import type { ServerInfo } from '../../shared/protocol/messages.js';
import { matchesAny } from '../users/id-pattern.js';
import type { RelaySession } from './relay-session.js';
import type { RelayState } from './relay-state.js';
import { endSession } from './session-end.js';

const key = (sid: string, request: number): string => `${sid}:${request}`;

/** Ids claimed locally wait for the cluster before the Advertised reply goes out. */
export function awaitClusterClaim(state: RelayState, session: RelaySession, request: number, accepted: string[], rejected: { id: string; code: ErrorCode }[]): void {
  state.pendingClaims.set(key(session.sid, request), { accepted, rejected });
  const servers = accepted.map((id) => state.registry.member(id, session.sid)).filter((reg) => reg !== undefined)
    .map((reg) => ({ ...reg.info, ...(reg.proxy ? { proxy: reg.proxy } : {}) }));
  state.out.push({ type: 'cluster-claim', sid: session.sid, user: session.user, request, servers });
}

export function clusterClaimed(state: RelayState, sid: string, request: number, refused: { id: string; code: ErrorCode }[]): void {
  const pending = state.pendingClaims.get(key(sid, request));
  state.pendingClaims.delete(key(sid, request));
  const session = state.sessions.get(sid);
  if (!pending || !session) return;
  const refusedIds = new Set(refused.map((r) => r.id));
  for (const r of refused) {
    if (!session.servers.delete(r.id)) continue;
    state.registry.release(r.id, sid);
    state.deps.log.warn({ session: sid, user: session.user, server: r.id, code: r.code }, 'advertise refused by the cluster');
  }
  const accepted = pending.accepted.filter((id) => !refusedIds.has(id));
  state.registryChanged();
  state.sendSealed(session, { t: 'advertised', id: request, accepted, rejected: [...pending.rejected, ...refused] });
}

export function clusterListed(state: RelayState, sid: string, request: number, remote: ServerInfo[] | undefined): void {
  const session = state.sessions.get(sid);
  if (!session) return;
  if (!remote) return state.sendSealed(session, { t: 'error', id: request, code: 'ERR_CLUSTER_UNAVAILABLE' });
  const byId = new Map<string, ServerInfo>();
  for (const info of remote) byId.set(info.id, info);
  for (const reg of state.registry.list()) byId.set(reg.info.id, { ...reg.info });
  const servers = [...byId.values()].filter((info) => matchesAny(session.record.access, info.id)).sort((a, b) => a.id.localeCompare(b.id));
  state.sendSealed(session, { t: 'servers', id: request, servers });
}

/** The cluster-wide revocation set changed: sessions of revoked accounts end, as if disabled here. */
export function revocationsChanged(state: RelayState, users: string[], now: number): void {
  state.revoked = new Set(users);
  for (const session of [...state.sessions.values()]) {
    if (!state.revoked.has(session.user)) continue;
    state.deps.log.info({ session: session.sid, user: session.user }, 'account revoked in the cluster, ending its session');
    state.fail(session.control, 'ERR_AUTH_FAILED');
    endSession(state, session, now);
  }
}
