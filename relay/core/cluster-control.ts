/**
 * Control requests that need the cluster's shared state: an Advertise waits for the cluster-wide claim
 * (another account may hold the id at another relay, S9), a listing merges the servers other relays hold,
 * and accounts revoked anywhere lose their sessions here.
 */
import type { ErrorCode } from '../../shared/errors.js';
import type { ServerInfo } from '../../shared/protocol/messages.js';
import { matchesAny } from '../users/id-pattern.js';
import type { RelaySession } from './relay-session.js';
import type { Registration } from './server-registry.js';
import type { RelayState } from './relay-state.js';
import { byId as byServerId, listingPage } from './listing-page.js';
import { endSession } from './session-end.js';
import { confirmPublication, unpublish, unpublishSession, type PublishOutcome } from './relay-publish.js';

const key = (sid: string, request: number): string => `${sid}:${request}`;

/** Requests one session may have waiting for Redis at once; more get ERR_LIMIT (each settles within Redis's command timeout). */
export const MAX_CLUSTER_REQUESTS_PER_SESSION = 4;

/** Whether a session may ask the cluster one more thing now; if not, it has its error reply. */
export function clusterMayAsk(state: RelayState, session: RelaySession, request: number): boolean {
  const k = key(session.sid, request);
  const code = state.pendingClaims.has(k) || state.pendingLists.has(k) ? 'ERR_INVALID_REQUEST'
    : session.clusterRequests >= MAX_CLUSTER_REQUESTS_PER_SESSION ? 'ERR_LIMIT' : undefined;
  if (code) state.sendSealed(session, { t: 'error', id: request, code });
  return code === undefined;
}

/**
 * Ids claimed locally, and urls published here that the cluster has not confirmed yet (pending), wait for
 * the cluster before the Advertised reply goes out.
 */
export function awaitClusterClaim(
  state: RelayState, session: RelaySession, request: number, accepted: string[], rejected: { id: string; code: ErrorCode }[], published?: PublishOutcome,
): void {
  session.clusterRequests++;
  const publications = (published?.published ?? []).filter((url) => state.publications.get(url)?.pending === true);
  state.pendingClaims.set(key(session.sid, request), { accepted, rejected, publications, ...(published ? { published } : {}) });
  // A server reached only through publications is not written where other relays list servers (as in the sync).
  const servers = accepted.map((id) => state.registry.member(id, session.sid)).filter((reg): reg is Registration => reg !== undefined && !reg.publicOnly)
    .map((reg) => ({ ...reg.info, ...(reg.proxy ? { proxy: reg.proxy } : {}) }));
  state.out.push({ type: 'cluster-claim', sid: session.sid, user: session.user, request, servers, publications });
}

/** Whether an Advertise must wait for the cluster: it claimed ids, or published urls not yet confirmed. */
export function needsClusterClaim(state: RelayState, accepted: string[], published?: PublishOutcome): boolean {
  return accepted.length > 0 || (published?.published ?? []).some((url) => state.publications.get(url)?.pending === true);
}

export function clusterClaimed(
  state: RelayState, sid: string, request: number, refused: { id: string; code: ErrorCode }[], now: number, refusedUrls: { url: string; code: ErrorCode }[] = [],
): void {
  const pending = state.pendingClaims.get(key(sid, request));
  state.pendingClaims.delete(key(sid, request));
  const session = state.sessions.get(sid);
  if (!pending || !session) return;
  session.clusterRequests--;
  const refusedIds = new Set(refused.map((r) => r.id));
  for (const r of refused) {
    if (!session.servers.delete(r.id)) continue;
    state.registry.release(r.id, sid);
  }
  if (refused.length > 0) {
    const fields = { session: sid, user: session.user, refused: refused.length, servers: refused.slice(0, 8).map((r) => r.id), code: refused[0]!.code };
    state.logLimited(`advertise:${session.user}:cluster-refused`, now, fields, 'advertise refused by the cluster');
  }
  const published = settlePublications(state, session, pending.publications, refusedUrls, refused, now, pending.published);
  const accepted = pending.accepted.filter((id) => !refusedIds.has(id));
  state.registryChanged();
  state.sendSealed(session, { t: 'advertised', id: request, accepted, rejected: [...pending.rejected, ...refused], ...(published ?? {}) });
}

/**
 * The cluster's answer for the urls this Advertise claimed: refused ones are released here and reported
 * unpublished, the rest open. A publication whose server id the cluster refused goes with it (nothing
 * here could serve it), under that id's code.
 */
function settlePublications(
  state: RelayState, session: RelaySession, claimed: string[], refusedUrls: { url: string; code: ErrorCode }[],
  refusedIds: { id: string; code: ErrorCode }[], now: number, outcome?: PublishOutcome,
): PublishOutcome | undefined {
  const refused = refusedUrls.filter((r) => claimed.includes(r.url));
  const idCodes = new Map(refusedIds.map((r) => [r.id, r.code]));
  for (const url of outcome?.published ?? []) {
    const code = idCodes.get(state.publications.get(url)?.server ?? '');
    if (code && !refused.some((r) => r.url === url)) refused.push({ url, code });
  }
  const refusedSet = new Set(refused.map((r) => r.url));
  for (const url of new Set([...claimed, ...refusedSet])) {
    if (!state.publications.get(url)?.holders.includes(session.sid)) continue;
    if (refusedSet.has(url)) unpublish(state, url, session.sid);
    else confirmPublication(state, url);
  }
  if (!outcome) return undefined;
  if (refused.length > 0) {
    const fields = { session: session.sid, user: session.user, refused: refused.slice(0, 8) };
    state.logLimited(`advertise:${session.user}:cluster-unpublished`, now, fields, 'publications refused by the cluster');
  }
  return { published: outcome.published.filter((url) => !refusedSet.has(url)), unpublished: [...outcome.unpublished, ...refused] };
}

/** A listing in a cluster waits for the servers other relays hold; the page cursor waits with it. */
export function awaitClusterList(state: RelayState, session: RelaySession, request: number, after: string | undefined): void {
  if (!clusterMayAsk(state, session, request)) return;
  session.clusterRequests++;
  state.pendingLists.set(key(session.sid, request), { after });
  state.out.push({ type: 'cluster-list', sid: session.sid, request });
}

export function clusterListed(state: RelayState, sid: string, request: number, remote: ServerInfo[] | undefined): void {
  const pending = state.pendingLists.get(key(sid, request));
  state.pendingLists.delete(key(sid, request));
  const session = state.sessions.get(sid);
  if (!pending || !session) return;
  session.clusterRequests--;
  if (!remote) return state.sendSealed(session, { t: 'error', id: request, code: 'ERR_CLUSTER_UNAVAILABLE' });
  const byId = new Map<string, ServerInfo>();
  for (const info of remote) byId.set(info.id, info);
  for (const reg of state.registry.list()) if (!reg.publicOnly) byId.set(reg.info.id, { ...reg.info });
  const sorted = [...byId.values()].sort(byServerId);
  state.sendSealed(session, { t: 'servers', id: request, ...listingPage(sorted, pending.after, (id) => matchesAny(session.record.access, id)) });
}

/** The cluster-wide revocation set changed: sessions of revoked accounts end, as if disabled here. */
export function revocationsChanged(state: RelayState, users: string[], now: number): void {
  state.revoked = new Set(users);
  for (const user of users) state.publications.forgetAccount(user);
  for (const session of [...state.sessions.values()]) {
    if (!state.revoked.has(session.user)) continue;
    state.deps.log.info({ session: session.sid, user: session.user }, 'account revoked in the cluster, ending its session');
    state.fail(session.control, 'ERR_AUTH_FAILED');
    unpublishSession(state, session.sid); // not coming back: no "gone for now" 503 for its names
    endSession(state, session, now);
  }
}
