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
import { awaitClusterClaim, awaitClusterList, clusterMayAsk, needsClusterClaim } from './cluster-control.js';
import { listingPage } from './listing-page.js';
import { applyPublications, type PublishOutcome } from './relay-publish.js';

export function handleControl(state: RelayState, session: RelaySession, msg: PeerControlMessage, now: number): void {
  switch (msg.t) {
    case 'advertise':
      if (session.port !== 'skeleton') return state.sendSealed(session, { t: 'error', id: msg.id, code: 'ERR_INVALID_REQUEST' });
      if (state.deps.cluster && !clusterMayAsk(state, session, msg.id)) return;
      return advertise(state, session, msg, now);
    case 'list': {
      if (session.port !== 'client') return state.sendSealed(session, { t: 'error', id: msg.id, code: 'ERR_INVALID_REQUEST' });
      if (state.deps.cluster) return awaitClusterList(state, session, msg.id, msg.after);
      const page = listingPage(state.registry.sortedInfos(), msg.after, (id) => matchesAny(session.record.access, id));
      return state.sendSealed(session, { t: 'servers', id: msg.id, ...page });
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
 * changes and what it asks for in vain are logged in one line each per Advertise, drawn from a small
 * budget per account (logLimited), so a skeleton churning its list cannot flood the log.
 */
function advertise(state: RelayState, session: RelaySession, msg: Advertise, now: number): void {
  const { limits } = state.deps;
  const accepted: string[] = [];
  const rejected: { id: string; code: ErrorCode }[] = [];
  const listed = new Set(msg.servers.map((s) => s.id));
  const held = new Set(session.servers);
  const withdrawn: string[] = [];
  const takenOver: string[] = [];
  for (const id of held) {
    if (!listed.has(id)) {
      state.registry.release(id, session.sid);
      session.servers.delete(id);
      withdrawn.push(id);
    }
  }
  const seen = new Set<string>();
  for (const info of msg.servers) {
    const duplicate = seen.has(info.id);
    seen.add(info.id);
    const code = duplicate ? 'ERR_INVALID_REQUEST' : claim(state, session, info, accepted.length >= limits.maxServersPerSkeleton, now, msg, takenOver);
    if (code) rejected.push({ id: info.id, code });
    else accepted.push(info.id);
  }
  logAdvertise(state, session, now, { added: accepted.filter((id) => !held.has(id)), withdrawn, takenOver, rejected });
  const outcome = msg.publish !== undefined || state.publications.heldBy(session.sid).length > 0
    ? applyPublications(state, session, msg, session.servers, now) : undefined;
  if (outcome) logPublish(state, session, now, outcome);
  if (state.deps.cluster) {
    state.registryChanged();
    if (needsClusterClaim(state, accepted, outcome)) return awaitClusterClaim(state, session, msg.id, accepted, rejected, outcome);
  }
  state.sendSealed(session, { t: 'advertised', id: msg.id, accepted, rejected, ...(outcome ? outcome : {}) });
}

/** Budget of change lines per account: this many at once, then one per 10 s (a reload at start logs whole). */
const CHANGE_LINES = 10;

function logAdvertise(
  state: RelayState, session: RelaySession, now: number,
  done: { added: string[]; withdrawn: string[]; takenOver: string[]; rejected: { id: string; code: ErrorCode }[] },
): void {
  const who = { session: session.sid, user: session.user };
  const key = `advertise:${session.user}`;
  if (done.added.length > 0) state.logLimited(key, now, { ...who, servers: done.added }, 'servers advertised', 'info', CHANGE_LINES);
  if (done.withdrawn.length > 0) state.logLimited(key, now, { ...who, servers: done.withdrawn }, 'servers withdrawn', 'info', CHANGE_LINES);
  if (done.takenOver.length > 0) state.logLimited(key, now, { ...who, servers: done.takenOver }, 'servers taken over', 'info', CHANGE_LINES);
  if (done.rejected.length > 0) {
    const codes: Record<string, number> = {};
    for (const r of done.rejected) codes[r.code] = (codes[r.code] ?? 0) + 1;
    state.logLimited(`${key}:refused`, now, { ...who, refused: done.rejected.length, codes, servers: done.rejected.slice(0, 8).map((r) => r.id) }, 'advertise refused');
  }
}

function logPublish(state: RelayState, session: RelaySession, now: number, outcome: PublishOutcome): void {
  const who = { session: session.sid, user: session.user };
  const key = `advertise:${session.user}`;
  if (outcome.published.length > 0) state.logLimited(key, now, { ...who, publications: outcome.published }, 'publications live', 'info', CHANGE_LINES);
  if (outcome.unpublished.length > 0) {
    state.logLimited(`${key}:unpublished`, now, { ...who, refused: outcome.unpublished.slice(0, 8) }, 'publications refused');
  }
}

function claim(
  state: RelayState, session: RelaySession, info: AdvertisedServer, full: boolean, now: number, msg: Advertise, takenOver: string[],
): ErrorCode | undefined {
  if (!matchesAny(session.record.serve, info.id)) return 'ERR_SERVER_ID_NOT_ALLOWED';
  if (info.proxy && !state.deps.allowProxyProtocol) return 'ERR_PROXY_NOT_ALLOWED';
  if (full) return 'ERR_LIMIT';
  const result = state.registry.claim(info, session.sid, session.user, now, msg.instance, msg.yield === true);
  if (!result.ok) return result.code;
  session.servers.add(info.id);
  if (result.replaced) {
    // A takeover by the same account and instance: the stale session loses the id at once, and is told so.
    const displaced = state.sessions.get(result.replaced);
    displaced?.servers.delete(info.id);
    if (displaced) state.sendSealed(displaced, { t: 'withdrawn', servers: [info.id], code: 'ERR_SERVER_ID_TAKEN' });
    takenOver.push(info.id);
  }
  return undefined;
}
