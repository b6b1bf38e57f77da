/**
 * Publications in an Advertise (public ingress): each is checked on its own (the account's grants, the
 * kinds and ports this relay offers, ownership) and refused alone; the session's other servers and
 * publications go on. A tcp publication that becomes live asks the adapter to listen on its port; one
 * nobody holds any more closes it. In a cluster a new url waits (pending) for the cluster's claim
 * (cluster-control.ts): confirmed, it opens; refused, it is released.
 */
import type { ErrorCode } from '../../shared/errors.js';
import { cidrProblem } from '../../shared/protocol/cidr.js';
import type { Advertise, Publication } from '../../shared/protocol/messages.js';
import { parsePublicationUrl } from '../../shared/protocol/publication-url.js';
import { grantsCover } from '../users/publish-grant.js';
import type { RelaySession } from './relay-session.js';
import type { RelayState } from './relay-state.js';

/** What public ingress this relay offers (all off unless configured). */
export interface IngressOffer {
  http: boolean;
  https: boolean;
  /** Port ranges (inclusive) that tcp and udp publications may use. */
  ports: ReadonlyArray<readonly [number, number]>;
}

export const NO_INGRESS: IngressOffer = { http: false, https: false, ports: [] };

export interface PublishOutcome {
  published: string[];
  unpublished: { url: string; code: ErrorCode }[];
}

/** Applies the Advertise's publication list for this session; `served` are the ids it holds now. */
export function applyPublications(state: RelayState, session: RelaySession, msg: Advertise, served: ReadonlySet<string>, now: number): PublishOutcome {
  const wanted = msg.publish ?? [];
  session.publishWanted = wanted;
  const listed = new Set(wanted.map((p) => p.url));
  for (const url of state.publications.heldBy(session.sid)) if (!listed.has(url)) unpublish(state, url, session.sid, now);
  const outcome: PublishOutcome = { published: [], unpublished: [] };
  const seen = new Set<string>();
  for (const pub of wanted) {
    const code = seen.has(pub.url) ? 'ERR_INVALID_REQUEST' : publishOne(state, session, pub, served, now);
    seen.add(pub.url);
    if (code) outcome.unpublished.push({ url: pub.url, code });
    else outcome.published.push(pub.url);
  }
  return outcome;
}

function publishOne(state: RelayState, session: RelaySession, pub: Publication, served: ReadonlySet<string>, now: number): ErrorCode | undefined {
  const target = parsePublicationUrl(pub.url);
  if (typeof target === 'string') return 'ERR_INVALID_REQUEST';
  if (!served.has(pub.server)) return 'ERR_INVALID_REQUEST';
  if ([...(pub.allow ?? []), ...(pub.deny ?? [])].some((c) => cidrProblem(c) !== undefined)) return 'ERR_INVALID_REQUEST';
  if (pub.forwarded && target.kind !== 'http') return 'ERR_INVALID_REQUEST';
  if (!grantsCover(session.record.publish, target)) return 'ERR_PUBLISH_NOT_ALLOWED';
  const offer = state.deps.ingress ?? NO_INGRESS;
  if (target.kind === 'tcp' || target.kind === 'udp') {
    if (offer.ports.length === 0) return 'ERR_INGRESS_OFF';
    if (!offer.ports.some(([low, high]) => target.port! >= low && target.port! <= high)) return 'ERR_PORT_NOT_PUBLIC';
  } else if (!offer[target.kind]) {
    return 'ERR_INGRESS_OFF';
  }
  const result = state.publications.claim(pub, target, session.sid, session.user, now);
  if (!result.ok) return result.code;
  if (!result.fresh) return undefined;
  if (state.deps.cluster) state.publications.get(pub.url)!.pending = true;
  else if (target.port !== undefined) state.out.push({ type: 'public-listen', url: pub.url, port: target.port });
  return undefined;
}

/** The cluster confirmed a pending url: it is routed to, and its port opens. */
export function confirmPublication(state: RelayState, url: string): void {
  const record = state.publications.get(url);
  if (!record?.pending) return;
  delete record.pending;
  if (record.target.port !== undefined) state.out.push({ type: 'public-listen', url, port: record.target.port });
}

/**
 * A session lets go of one publication; the last one to do so closes its port (a pending one never
 * opened it). `goneAt`: the skeleton withdrew it or went away (it may be back soon), see release().
 */
export function unpublish(state: RelayState, url: string, sid: string, goneAt?: number): void {
  const record = state.publications.get(url);
  if (!state.publications.release(url, sid, goneAt)) return;
  // In a cluster, the url's owner key goes with this relay's last holder.
  state.registryChanged();
  if (record?.target.port !== undefined && !record.pending) state.out.push({ type: 'public-unlisten', url, port: record.target.port });
}

/** Every publication of a session that ended, or whose account changed. */
export function unpublishSession(state: RelayState, sid: string, keep: (url: string) => boolean = () => false, goneAt?: number): string[] {
  const gone: string[] = [];
  for (const url of state.publications.heldBy(sid)) {
    if (keep(url)) continue;
    unpublish(state, url, sid, goneAt);
    gone.push(url);
  }
  return gone;
}

/**
 * The users file changed: publications the account's grants no longer cover are withdrawn at once, and
 * their running connections cut (an operator revoking for abuse means now); ones the session asked for
 * in vain that the grants now cover go live.
 */
export function regrant(state: RelayState, session: RelaySession, now: number): void {
  const gone = unpublishSession(state, session.sid, (url) => {
    const record = state.publications.get(url);
    return record !== undefined && grantsCover(session.record.publish, record.target);
  });
  if (gone.length > 0) {
    const cut = new Set(gone.filter((url) => !state.publications.get(url)));
    for (const conn of state.conns.values()) if (conn.public !== undefined && cut.has(conn.public)) state.close(conn.id, 'ERR_PUBLISH_NOT_ALLOWED');
    state.deps.log.info({ session: session.sid, user: session.user, publications: gone }, 'publications withdrawn: no longer granted');
    state.sendSealed(session, { t: 'withdrawn', servers: [], publications: gone, code: 'ERR_PUBLISH_NOT_ALLOWED' });
  }
  // In a cluster a new url needs the cluster's claim first: the skeleton's next Advertise asks for it.
  if (state.deps.cluster) return;
  const held = new Set(state.publications.heldBy(session.sid));
  const granted = session.publishWanted.filter((pub) => !held.has(pub.url) && publishOne(state, session, pub, session.servers, now) === undefined);
  if (granted.length > 0) state.deps.log.info({ session: session.sid, user: session.user, publications: granted.map((p) => p.url) }, 'publications live: now granted');
}

/** The adapter could not listen on a tcp publication's port: nobody holds it, and its holders are told. */
export function listenFailed(state: RelayState, url: string): void {
  withdrawPublication(state, url, 'ERR_PORT_UNAVAILABLE');
}

/**
 * The cluster found urls held here owned by another account (it claimed them while this relay could not
 * reach Redis): they are withdrawn here. Pending ones are left to their own claim's answer.
 */
export function publicationsTaken(state: RelayState, urls: string[]): void {
  for (const url of urls) {
    const record = state.publications.get(url);
    if (!record || record.pending) continue;
    state.deps.log.warn({ publication: url, user: record.user }, 'publication owned by another account in the cluster; withdrawn here');
    withdrawPublication(state, url, 'ERR_PUBLICATION_TAKEN');
  }
}

/** Every holder lets go of a url at once, and is told why. */
function withdrawPublication(state: RelayState, url: string, code: ErrorCode): void {
  const record = state.publications.get(url);
  if (!record) return;
  for (const sid of [...record.holders]) {
    unpublish(state, url, sid);
    const session = state.sessions.get(sid);
    if (session) state.sendSealed(session, { t: 'withdrawn', servers: [], publications: [url], code });
  }
}
