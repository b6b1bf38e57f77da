/**
 * Sealed control messages from a logged-in peer: advertise (skeletons, S9), list (clients, S10/S11:
 * ids, descriptions and protocol hints only), heartbeats. A request that is not allowed gets an error
 * reply and the channel lives on.
 */
import type { ErrorCode } from '../../shared/errors.js';
import type { Advertise, AdvertisedServer, PeerControlMessage } from '../../shared/protocol/messages.js';
import { matchesAny } from '../users/id-pattern.js';
import { Redacted } from '../../shared/redacted.js';
import type { RelaySession } from './relay-session.js';
import type { RelayState } from './relay-state.js';
import { awaitClusterClaim, awaitClusterList, clusterMayAsk } from './cluster-control.js';
import { listingPage } from './listing-page.js';

export function handleControl(state: RelayState, session: RelaySession, msg: PeerControlMessage, now: number): void {
  switch (msg.t) {
    case 'advertise':
      if (session.port !== 'skeleton') return state.sendSealed(session, { t: 'error', id: msg.id, code: 'ERR_INVALID_REQUEST' });
      if (state.deps.cluster && !clusterMayAsk(state, session, msg.id)) return;
      return advertise(state, session, msg, now);
    case 'list': {
      if (session.port !== 'client') return state.sendSealed(session, { t: 'error', id: msg.id, code: 'ERR_INVALID_REQUEST' });
      if (state.deps.cluster) return awaitClusterList(state, session, msg.id, msg.after);
      const visible = state.registry.list().filter((reg) => matchesAny(session.record.access, reg.info.id)).map((reg) => reg.info);
      return state.sendSealed(session, { t: 'servers', id: msg.id, ...listingPage(visible, msg.after) });
    }
    case 'ticket-request':
      if (!state.deps.cluster || session.port !== 'client') return state.sendSealed(session, { t: 'error', id: msg.id, code: 'ERR_INVALID_REQUEST' });
      return void state.out.push({ type: 'mint-ticket', sid: session.sid, user: session.user, port: 'client', attachKey: new Redacted(session.keys.attach), purpose: { request: msg.id } });
    case 'ping':
      return state.sendSealed(session, { t: 'pong', n: msg.n });
    case 'pong':
      return;
  }
}

/** An Advertise carries the whole list: ids the session held and no longer lists are released. */
function advertise(state: RelayState, session: RelaySession, msg: Advertise, now: number): void {
  const { log, limits } = state.deps;
  const accepted: string[] = [];
  const rejected: { id: string; code: ErrorCode }[] = [];
  const listed = new Set(msg.servers.map((s) => s.id));
  for (const id of session.servers) {
    if (!listed.has(id)) {
      state.registry.release(id, session.sid);
      session.servers.delete(id);
      log.info({ session: session.sid, server: id }, 'server withdrawn');
    }
  }
  const seen = new Set<string>();
  for (const info of msg.servers) {
    const duplicate = seen.has(info.id);
    seen.add(info.id);
    const code = duplicate ? 'ERR_INVALID_REQUEST' : claim(state, session, info, accepted.length >= limits.maxServersPerSkeleton, now);
    if (code) {
      rejected.push({ id: info.id, code });
      log.warn({ session: session.sid, user: session.user, server: info.id, code }, 'advertise refused');
    } else {
      accepted.push(info.id);
      log.info({ session: session.sid, user: session.user, server: info.id }, 'server advertised');
    }
  }
  if (state.deps.cluster) {
    state.registryChanged();
    if (accepted.length > 0) return awaitClusterClaim(state, session, msg.id, accepted, rejected);
  }
  state.sendSealed(session, { t: 'advertised', id: msg.id, accepted, rejected });
}

function claim(state: RelayState, session: RelaySession, info: AdvertisedServer, full: boolean, now: number): ErrorCode | undefined {
  if (!matchesAny(session.record.serve, info.id)) return 'ERR_SERVER_ID_NOT_ALLOWED';
  if (info.proxy && !state.deps.allowProxyProtocol) return 'ERR_PROXY_NOT_ALLOWED';
  if (full) return 'ERR_LIMIT';
  const result = state.registry.claim(info, session.sid, session.user, now);
  if (!result.ok) return result.code;
  session.servers.add(info.id);
  if (result.replaced) {
    // Takeover by the same account: the stale session loses the id at once.
    state.sessions.get(result.replaced)?.servers.delete(info.id);
    state.deps.log.info({ server: info.id, from: result.replaced, to: session.sid }, 'server taken over');
  }
  return undefined;
}
