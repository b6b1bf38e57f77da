/**
 * The broker: data connections prove their session (S7), client streams are joined to an idle pooled
 * skeleton connection, or the skeleton is asked to dial a fresh one. "Not allowed" and "does not
 * exist" are the same answer (S11).
 */
import { verifyAttachMac } from '../../shared/crypto/attach-proof.js';
import type { ErrorCode } from '../../shared/errors.js';
import type { Attach, Bind } from '../../shared/protocol/messages.js';
import { Redacted } from '../../shared/redacted.js';
import { matchesAny } from '../users/id-pattern.js';
import type { ConnId } from './relay-events.js';
import type { RelaySession } from './relay-session.js';
import type { Conn, PendingDial, RelayState, StreamOwner } from './relay-state.js';
import { beginRemoteOpen, beginTicketAttach } from './cluster-broker.js';

export function handleAttach(state: RelayState, conn: Conn, msg: Attach, now: number): void {
  if (msg.ticket !== undefined) return beginTicketAttach(state, conn, msg, now);
  const session = state.sessions.get(msg.sid);
  if (!session || session.port !== conn.port || !verifyAttachMac(session.keys.attach, conn.challenge, msg, msg.mac)) {
    state.logLimited(`attach-rejected:${conn.source}`, now, { conn: conn.id, port: conn.port, source: conn.source }, 'attach proof rejected');
    state.guard.penalize(conn.source, 'auth-fail', now);
    state.fail(conn.id, 'ERR_AUTH_FAILED');
    return;
  }
  state.authenticated(conn);
  conn.sid = session.sid;
  if (conn.port === 'client') {
    if (msg.purpose !== 'stream' || !msg.server) return state.fail(conn.id, 'ERR_PROTOCOL');
    return openStream(state, conn, session, msg.server, now);
  }
  if (msg.purpose === 'dial' && msg.dial) {
    const pending = state.dials.get(msg.dial);
    if (pending && pending.skeletonSid === session.sid) {
      state.dials.take(msg.dial);
      return join(state, pending, conn.id, now);
    }
  } else if (msg.purpose !== 'pool') {
    return state.fail(conn.id, 'ERR_PROTOCOL');
  }
  offerToPool(state, conn, session, now);
}

export function openStream(state: RelayState, conn: Conn, client: StreamOwner, server: string, now: number): void {
  // A group of skeletons serves the id in turn (server-registry.ts).
  const reg = state.registry.get(server);
  const allowed = matchesAny(client.record.access, server) && reg?.publicOnly !== true;
  // Held here: brokerStream picks the member (picking advances the group's turn, so only once per stream).
  const here = reg !== undefined && state.sessions.has(reg.sid);
  // Not held here: in a cluster another relay may hold it (its skeleton dials us); S11 still holds.
  if (allowed && !here && state.deps.cluster) {
    if (overStreamLimits(state, client, true)) return state.fail(conn.id, 'ERR_LIMIT');
    return beginRemoteOpen(state, conn, client, server, now);
  }
  if (!here || !allowed) {
    state.logLimited(`open-refused:${client.sid}`, now, { conn: conn.id, user: client.user, server }, 'open refused: unknown or not allowed', 'info');
    return state.fail(conn.id, 'ERR_UNKNOWN_SERVER');
  }
  brokerStream(state, conn, client, server, now);
}

/**
 * Joins a stream to an idle pooled connection of a skeleton serving `server`, or asks one to dial.
 * `eligible` narrows which sessions may serve it (a publication's holders).
 */
export function brokerStream(state: RelayState, conn: Conn, client: StreamOwner, server: string, now: number, eligible: (sid: string) => boolean = () => true): void {
  const { log, limits } = state.deps;
  const reg = state.registry.pick(server, (sid) => eligible(sid) && (state.sessions.get(sid)?.pool.length ?? 0) > 0);
  const skeleton = reg && eligible(reg.sid) ? state.sessions.get(reg.sid) : undefined;
  if (!skeleton) return state.fail(conn.id, 'ERR_SERVER_UNREACHABLE');
  const idle = skeleton.pool[0];
  if (overStreamLimits(state, client, idle === undefined)) return state.fail(conn.id, 'ERR_LIMIT');
  conn.openedAt = now;
  const pending: PendingDial = { client: conn.id, clientSid: client.sid, clientUser: client.user, skeletonSid: skeleton.sid, server };
  if (conn.public !== undefined) pending.publication = conn.public;
  if (idle !== undefined) {
    skeleton.pool.shift();
    state.countStream(client);
    return join(state, pending, idle, now);
  }
  const dial = state.token(12);
  // A stream waiting on a dial counts toward the client's limit, like a joined one.
  state.countStream(client);
  state.dials.add(dial, pending);
  conn.phase = 'waiting';
  conn.dial = dial;
  conn.server = server;
  conn.deadline = now + limits.dialTimeoutMs;
  state.out.push({ type: 'hold', conn: conn.id });
  state.sendSealed(skeleton, { t: 'dial', dial, server });
  log.debug({ conn: conn.id, server, dial }, 'no idle connection, dial requested');
}

/**
 * Whether one more stream would pass a limit: streams per session, streams per account (all its sessions),
 * and, for a stream that has to wait for a dial, streams per account waiting at once (each holds its
 * client's connection and early bytes at the relay).
 */
function overStreamLimits(state: RelayState, client: StreamOwner, waits: boolean): boolean {
  const { limits } = state.deps;
  // A publication's connections are capped by its front door (relay/public), not by a session's limits.
  if (client.public) return waits && state.dials.waitingOf(client.user) >= limits.maxWaitingPerUser;
  return client.streams >= limits.maxStreamsPerSession || state.streamsOf(client.user) >= limits.maxStreamsPerUser
    || (waits && state.dials.waitingOf(client.user) >= limits.maxWaitingPerUser);
}

/** A fresh skeleton connection serves the oldest client waiting on this session, else waits idle. */
function offerToPool(state: RelayState, conn: Conn, session: RelaySession, now: number): void {
  for (const [dial, pending] of state.dials) {
    if (pending.skeletonSid === session.sid) {
      state.dials.take(dial);
      return join(state, pending, conn.id, now);
    }
  }
  if (session.pool.length >= state.deps.limits.maxPoolPerSession) return state.fail(conn.id, 'ERR_LIMIT');
  session.pool.push(conn.id);
  conn.phase = 'pooled';
  state.out.push({ type: 'hold', conn: conn.id });
}

/** Joins a client stream, already counted in its session's streams, to a skeleton data connection. */
export function join(state: RelayState, pending: PendingDial, skeletonConn: ConnId, now: number): void {
  const { client: clientConn, server } = pending;
  const client = state.conns.get(clientConn);
  const skeleton = state.conns.get(skeletonConn);
  const clientSession = client?.sid ? state.owner(client.sid) : undefined;
  const skeletonSession = skeleton?.sid ? state.sessions.get(skeleton.sid) : undefined;
  // A remote skeleton (cluster) has its session at another relay; its connection proved it with a ticket.
  const skeletonUser = pending.remote ? pending.remote.user : skeletonSession?.user;
  if (!client || !skeleton || !clientSession || skeletonUser === undefined || (!pending.remote && !skeletonSession)) {
    state.uncountStream(pending.clientSid, pending.clientUser);
    // Neither side is left waiting for a timeout that would charge it for the other's departure.
    if (client) state.fail(client.id, clientSession ? 'ERR_SERVER_UNREACHABLE' : 'ERR_SESSION_ENDED');
    if (skeleton && skeletonSession) return offerToPool(state, skeleton, skeletonSession, now);
    if (skeleton) state.close(skeleton.id, 'ok');
    return;
  }
  const stream = state.nextStream++;
  for (const c of [client, skeleton]) {
    c.phase = 'joined';
    c.stream = stream;
    c.dial = undefined;
    c.deadline = undefined;
  }
  if (skeletonSession) skeletonSession.streams++;
  state.streams.set(stream, {
    clientSid: clientSession.sid, skeletonSid: pending.skeletonSid, clientConn, skeletonConn, counted: true, server, clientUser: clientSession.user, skeletonUser, since: now,
  });
  state.note({ kind: 'joined', at: now, stream, server, waitedMs: now - (client.openedAt ?? now) });
  // S10: the skeleton learns the client's address only for a server that opted in, on a relay that allows it.
  const wants = pending.remote ? pending.remote.proxy : state.registry.member(server, pending.skeletonSid)?.proxy;
  const proxy = wants && state.deps.allowProxyProtocol ? client.endpoints : undefined;
  const bind: Bind = { t: 'bind', server, ...(proxy ? { proxy } : {}), ...(pending.publication !== undefined ? { public: true } : {}) };
  state.sendPlain(skeletonConn, bind);
  if (pending.publication !== undefined && skeletonSession) {
    // The relay is the public stream's end-to-end initiator; the runtime runs the handshake.
    const source = client.endpoints ? `${client.endpoints.src}:${client.endpoints.srcPort}` : client.source;
    state.out.push({
      type: 'splice', stream, client: clientConn, skeleton: skeletonConn, server, user: skeletonSession.user,
      public: { url: pending.publication, source, legKey: new Redacted(skeletonSession.keys.publicLeg), sid: pending.skeletonSid, proxy: proxy !== undefined },
    });
    return;
  }
  state.sendPlain(clientConn, { t: 'joined' });
  state.out.push({ type: 'splice', stream, client: clientConn, skeleton: skeletonConn, server, user: clientSession.user });
}

/**
 * Client streams waiting on a dial that will not come (their skeleton session is gone, they waited too
 * long, their own session ended) get an error (`code`, default ERR_SERVER_UNREACHABLE) and close.
 */
export function failWaiting(state: RelayState, match: (pending: PendingDial, client: Conn) => boolean, code: ErrorCode = 'ERR_SERVER_UNREACHABLE'): void {
  for (const [dial, pending] of state.dials) {
    const client = state.conns.get(pending.client);
    if (!client || match(pending, client)) {
      dialEnded(state, dial);
      if (client) state.fail(client.id, code);
    }
  }
}

/** A dial that will not be joined: the waiting client's stream no longer counts. */
export function dialEnded(state: RelayState, dial: string): void {
  const pending = state.dials.take(dial);
  if (!pending) return;
  const client = state.conns.get(pending.client);
  if (client) client.dial = undefined;
  state.uncountStream(pending.clientSid, pending.clientUser);
}

export function streamEnded(state: RelayState, stream: number): void {
  const record = state.streams.get(stream);
  if (!record) return;
  state.streams.delete(stream);
  const skeletonSession = state.sessions.get(record.skeletonSid);
  state.uncountStream(record.clientSid, record.clientUser);
  if (skeletonSession) skeletonSession.streams--;
}
