/**
 * Cross-relay opens (cluster). A client here opens a server whose skeleton is attached to another relay:
 * the adapter finds that relay in Redis and asks it, over pub/sub, to send Dial on the skeleton's control
 * channel with our address and a session ticket; the skeleton dials us, proves its session with the
 * ticket and an HMAC over our fresh challenge (S7), and we join it to the waiting client. Stream bytes
 * never cross between relays.
 */
import { verifyAttachMac } from '../../shared/crypto/attach-proof.js';
import type { ErrorCode } from '../../shared/errors.js';
import type { Attach } from '../../shared/protocol/messages.js';
import { Redacted } from '../../shared/redacted.js';
import type { TicketClaims } from '../../shared/crypto/session-ticket.js';
import { dialEnded, join, openStream } from './relay-broker.js';
import type { ConnId, RemoteHolder, TicketPurpose } from './relay-events.js';
import type { Conn, RelayState, StreamOwner } from './relay-state.js';
import type { UserRecord } from '../users/users-file.js';

/** The client waits, counted against its stream limit, while the adapter looks the server up. */
export function beginRemoteOpen(state: RelayState, conn: Conn, client: StreamOwner, server: string, now: number): void {
  const dial = state.token(12);
  state.countStream(client);
  state.dials.add(dial, { client: conn.id, clientSid: client.sid, clientUser: client.user, skeletonSid: '', server });
  conn.openedAt = now;
  conn.phase = 'waiting';
  conn.dial = dial;
  conn.server = server;
  conn.deadline = now + state.deps.limits.dialTimeoutMs;
  state.out.push({ type: 'hold', conn: conn.id });
  state.out.push({ type: 'cluster-open', conn: conn.id, server, dial });
}

export function remoteFound(state: RelayState, dial: string, holder: RemoteHolder | undefined, unavailable: boolean, now: number): void {
  const pending = state.dials.get(dial);
  if (!pending) return;
  if (holder) {
    pending.skeletonSid = holder.sid;
    pending.remote = holder;
    state.deps.log.debug({ conn: pending.client, server: pending.server, relay: holder.relay, dial }, 'remote dial requested');
    return;
  }
  const code: ErrorCode = unavailable ? 'ERR_CLUSTER_UNAVAILABLE' : 'ERR_UNKNOWN_SERVER';
  state.logLimited(`remote-open-refused:${pending.clientUser}`, now, { conn: pending.client, server: pending.server, code }, 'remote open refused', 'info');
  remoteDialFailed(state, dial, code);
}

export function remoteDialFailed(state: RelayState, dial: string, code: ErrorCode): void {
  const pending = state.dials.get(dial);
  if (!pending) return;
  dialEnded(state, dial);
  state.fail(pending.client, code);
}

/** Another relay wants a stream from one of our skeleton sessions: mint a ticket for its Dial. */
export function remoteDialRequested(state: RelayState, dial: string, server: string, sid: string, origin: string): void {
  const session = state.sessions.get(sid);
  if (!session || session.port !== 'skeleton' || !session.servers.has(server) || state.revoked.has(session.user)) {
    state.deps.log.info({ session: sid, server }, 'remote dial for a session or server we no longer hold');
    return;
  }
  state.out.push({ type: 'mint-ticket', sid, user: session.user, port: 'skeleton', attachKey: new Redacted(session.keys.attach), purpose: { dial, server, origin } });
}

export function ticketMinted(state: RelayState, sid: string, purpose: TicketPurpose, ticket: string, exp: number): void {
  const session = state.sessions.get(sid);
  if (!session) return;
  state.ticketed.add(sid);
  if ('request' in purpose) return state.sendSealed(session, { t: 'ticket', id: purpose.request, ticket, exp });
  state.sendSealed(session, { t: 'dial', dial: purpose.dial, server: purpose.server, relay: purpose.origin, ticket });
}

/** A data connection that attaches with a ticket: hold its bytes while the adapter checks the ticket. */
export function beginTicketAttach(state: RelayState, conn: Conn, msg: Attach, now: number): void {
  if (!state.deps.cluster) return refuse(state, conn, now);
  conn.phase = 'verifying';
  conn.ticketAttach = msg;
  state.out.push({ type: 'hold', conn: conn.id });
  state.out.push({ type: 'verify-ticket', conn: conn.id, ticket: msg.ticket! });
}

export function ticketVerified(state: RelayState, connId: ConnId, claims: TicketClaims | undefined, record: UserRecord | undefined, now: number): void {
  const conn = state.conns.get(connId);
  const msg = conn?.ticketAttach;
  if (!conn || !msg || conn.closing) return;
  conn.ticketAttach = undefined;
  const good = claims !== undefined && claims.sid === msg.sid && claims.port === conn.port && !state.revoked.has(claims.user)
    && verifyAttachMac(claims.attachKey.reveal(), conn.challenge, msg, msg.mac);
  if (!good) return refuse(state, conn, now);
  // A ticket does not outlive its session: ended here, or at the relay that issued it (told over Redis).
  if (isEnded(state, claims.sid, now)) return state.fail(conn.id, 'ERR_SESSION_ENDED');
  if (conn.port === 'client') return guestStream(state, conn, msg, claims, record, now);
  state.authenticated(conn);
  conn.sid = claims.sid;
  const pending = msg.purpose === 'dial' && msg.dial ? state.dials.get(msg.dial) : undefined;
  // Only the session the holding relay named may answer this dial; nothing else attaches with a ticket.
  if (conn.port !== 'skeleton' || !pending?.remote || pending.skeletonSid !== claims.sid || pending.remote.user !== claims.user) {
    state.logLimited(`ticket-no-dial:${conn.source}`, now, { conn: conn.id, purpose: msg.purpose }, 'ticket attach for no pending remote dial');
    return state.fail(conn.id, 'ERR_PROTOCOL');
  }
  state.dials.take(msg.dial!);
  join(state, pending, conn.id, now);
}

/**
 * A client of another relay opens a stream here with its ticket: its rights are those this relay's users
 * file gives the account (a disabled, removed or re-roled account is refused, like a login). The stream
 * counts against a guest record that lives while it has streams.
 */
function guestStream(state: RelayState, conn: Conn, msg: Attach, claims: TicketClaims, record: UserRecord | undefined, now: number): void {
  if (!record || record.disabled || !record.roles.includes('client')) return refuse(state, conn, now);
  state.authenticated(conn);
  conn.sid = claims.sid;
  if (msg.purpose !== 'stream' || !msg.server) return state.fail(conn.id, 'ERR_PROTOCOL');
  // A ticket used at the client's own relay: its streams count against the session itself, not a guest
  // record beside it (which would double the session's stream limit and never be freed).
  const own = state.sessions.get(claims.sid);
  if (own) return own.user === claims.user && own.port === 'client' ? openStream(state, conn, own, msg.server, now) : refuse(state, conn, now);
  const guest = state.guests.get(claims.sid) ?? { sid: claims.sid, user: claims.user, record, streams: 0 };
  guest.record = record;
  state.guests.set(guest.sid, guest);
  openStream(state, conn, guest, msg.server, now);
  state.releaseGuest(guest.sid);
}

/** How long an ended session is remembered: longer than any ticket lives (60 s by default). */
export const ENDED_SESSION_MEMORY_MS = 5 * 60_000;
const MAX_ENDED_SESSIONS = 65_536;

/** A session that was given tickets ended (here, or at another relay): refuse its tickets from now on. */
export function sessionEnded(state: RelayState, sid: string, now: number): void {
  state.endedSessions.delete(sid);
  state.endedSessions.set(sid, now + ENDED_SESSION_MEMORY_MS);
  while (state.endedSessions.size > MAX_ENDED_SESSIONS) state.endedSessions.delete(state.endedSessions.keys().next().value as string);
}

function isEnded(state: RelayState, sid: string, now: number): boolean {
  const until = state.endedSessions.get(sid);
  if (until === undefined) return false;
  if (now < until) return true;
  state.endedSessions.delete(sid);
  return false;
}

function refuse(state: RelayState, conn: Conn, now: number): void {
  state.logLimited(`ticket-rejected:${conn.source}`, now, { conn: conn.id, port: conn.port, source: conn.source }, 'ticket attach rejected');
  state.guard.penalize(conn.source, 'auth-fail', now);
  state.fail(conn.id, 'ERR_AUTH_FAILED');
}
