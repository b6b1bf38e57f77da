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

/**
 * An Advertise carries the whole list: ids the session held and no longer lists are released. What it
 * changes is logged once per id (and window); what it asks for in vain, in one line per Advertise.
 */
function advertise(state: RelayState, session: RelaySession, msg: Advertise, now: number): void {
  const { limits } = state.deps;
  const accepted: string[] = [];
  const rejected: { id: string; code: ErrorCode }[] = [];
  const listed = new Set(msg.servers.map((s) => s.id));
  const held = new Set(session.servers);
  for (const id of held) {
    if (!listed.has(id)) {
      state.registry.release(id, session.sid);
      session.servers.delete(id);
      state.logLimited(`withdrawn:${session.sid}:${id}`, now, { session: session.sid, server: id }, 'server withdrawn', 'info');
    }
  }
  const seen = new Set<string>();
  for (const info of msg.servers) {
    const duplicate = seen.has(info.id);
    seen.add(info.id);
    const code = duplicate ? 'ERR_INVALID_REQUEST' : claim(state, session, info, accepted.length >= limits.maxServersPerSkeleton, now, msg.instance, msg.yield === true);
    if (code) {
      rejected.push({ id: info.id, code });
    } else {
      accepted.push(info.id);
      if (!held.has(info.id)) state.logLimited(`advertised:${session.sid}:${info.id}`, now, { session: session.sid, user: session.user, server: info.id }, 'server advertised', 'info');
    }
  }
  if (rejected.length > 0) {
    const codes: Record<string, number> = {};
    for (const r of rejected) codes[r.code] = (codes[r.code] ?? 0) + 1;
    const fields = { session: session.sid, user: session.user, refused: rejected.length, codes, servers: rejected.slice(0, 8).map((r) => r.id) };
    state.logLimited(`advertise-refused:${session.sid}`, now, fields, 'advertise refused');
  }
  if (state.deps.cluster) {
    state.registryChanged();
    if (accepted.length > 0) return awaitClusterClaim(state, session, msg.id, accepted, rejected);
  }
  state.sendSealed(session, { t: 'advertised', id: msg.id, accepted, rejected });
}

function claim(state: RelayState, session: RelaySession, info: AdvertisedServer, full: boolean, now: number, instance?: string, yieldToSame = false): ErrorCode | undefined {
  if (!matchesAny(session.record.serve, info.id)) return 'ERR_SERVER_ID_NOT_ALLOWED';
  if (info.proxy && !state.deps.allowProxyProtocol) return 'ERR_PROXY_NOT_ALLOWED';
  if (full) return 'ERR_LIMIT';
  const result = state.registry.claim(info, session.sid, session.user, now, instance, yieldToSame);
  if (!result.ok) return result.code;
  session.servers.add(info.id);
  if (result.replaced) tellDisplaced(state, result.replaced, info.id, session.sid, now);
  return undefined;
}

/** A takeover by the same account and instance: the stale session loses the id at once, and is told so. */
function tellDisplaced(state: RelayState, sid: string, id: string, by: string, now: number): void {
  const displaced = state.sessions.get(sid);
  displaced?.servers.delete(id);
  if (displaced) state.sendSealed(displaced, { t: 'withdrawn', servers: [id], code: 'ERR_SERVER_ID_TAKEN' });
  state.logLimited(`takeover:${id}`, now, { server: id, from: sid, to: by }, 'server taken over', 'info');
}
