/**
 * The relay as a plain state machine: events and the current time go in, commands come out. It owns
 * no socket and no timer; relay/io carries the commands out.
 */
import { BurrowError, codeOf } from '../../shared/errors.js';
import { decodeBody } from '../../shared/protocol/codec.js';
import { parsePeerControl, parsePeerHandshake } from '../../shared/protocol/parse.js';
import { dialEnded, failWaiting, handleAttach, streamEnded } from './relay-broker.js';
import { endSession } from './session-end.js';
import { handleControl } from './relay-control.js';
import type { ClientEndpoints, PortRole } from '../../shared/protocol/messages.js';
import type { ClusterEvent, ConnId, RelayCommand, RelayEvent } from './relay-events.js';
import { remoteDialFailed, remoteDialRequested, remoteFound, sessionEnded, ticketMinted, ticketVerified } from './cluster-broker.js';
import { clusterClaimed, clusterListed, revocationsChanged } from './cluster-control.js';
import { abandonLogin, beginLogin, expireLogins, finishLogin, greet, startLogins } from './relay-login.js';
import { RelayState, type Conn, type RelayDeps } from './relay-state.js';
import { sourceKey } from './source-guard.js';
import { matchesAny } from '../users/id-pattern.js';
import { openPublic } from './public-open.js';
import { listenFailed, publicationsTaken, regrant, unpublishSession } from './relay-publish.js';
import type { UserRecord } from '../users/users-file.js';

export class RelayCore {
  readonly state: RelayState;

  constructor(deps: RelayDeps) {
    this.state = new RelayState(deps);
  }

  handle(event: RelayEvent, now: number): RelayCommand[] {
    const state = this.state;
    state.out = [];
    switch (event.type) {
      case 'opened':
        this.#opened(event.conn, event.port, sourceKey(event.source), now, event.endpoints);
        break;
      case 'frame':
        this.#frame(event.conn, event.body, now);
        break;
      case 'login-verified': {
        state.logins.finished(event.conn);
        const conn = state.conns.get(event.conn);
        if (conn?.phase === 'verifying' && conn.login && !conn.closing) finishLogin(state, conn, event.verdict, now);
        startLogins(state, now);
        break;
      }
      case 'raw-bytes': {
        // A pooled connection must stay silent until it is bound to a stream.
        const conn = state.conns.get(event.conn);
        if (conn?.phase === 'pooled') state.fail(conn.id, 'ERR_PROTOCOL');
        break;
      }
      case 'bad-bytes': {
        const conn = state.conns.get(event.conn);
        if (!conn || conn.closing) break;
        state.logLimited(`bad-bytes:${conn.source}`, now, { conn: event.conn, code: event.code }, 'bad bytes, closing connection');
        if (conn.unauth) state.guard.penalize(conn.source, 'no-auth', now);
        state.fail(conn.id, event.code);
        break;
      }
      case 'closed':
        this.#closed(event.conn, now);
        break;
      case 'tick':
        this.#tick(now);
        break;
      case 'users-changed':
        this.#usersChanged(event.lookup, now);
        break;
      case 'public-open':
        openPublic(state, event.conn, event.url, sourceKey(event.source), event.endpoints, now);
        break;
      case 'public-listen-failed':
        state.deps.log.error({ publication: event.url }, 'cannot listen on the public port of a publication; withdrawn');
        listenFailed(state, event.url);
        break;
      default:
        this.#cluster(event, now);
    }
    return state.out;
  }

  /**
   * Whether a public tunnel joined to session `sid` may carry another public connection of `url`: the
   * publication still routes to that session and server (no takeover, withdrawal or change since), and
   * the relay is not stopping. Read-only.
   */
  publicRouteHolds(url: string, sid: string, server: string): boolean {
    const state = this.state;
    if (state.shuttingDown || !state.sessions.has(sid)) return false;
    const pub = state.publications.get(url);
    // The registry too: a same-instance session that came back took the server id over from this one.
    return pub !== undefined && !pub.pending && pub.server === server && pub.asked.get(sid)?.server === server
      && state.registry.member(server, sid) !== undefined;
  }

  /** A stream id for a public connection carried as a channel of a public tunnel (admin API, audit). */
  nextStreamId(): number {
    return this.state.nextStream++;
  }

  /** Stop accepting: every peer hears Goodbye; waiting streams fail; running streams are left to drain. */
  shutdown(retryAfterSeconds: number): RelayCommand[] {
    const state = this.state;
    state.out = [];
    state.shuttingDown = true;
    for (const session of state.sessions.values()) state.sendSealed(session, { t: 'goodbye', retryAfter: retryAfterSeconds });
    failWaiting(state, () => true);
    for (const conn of state.conns.values()) {
      if (conn.phase !== 'joined') state.close(conn.id, 'ERR_SHUTTING_DOWN');
    }
    return state.out;
  }

  /**
   * An operator ends a session (admin API): the peer hears Goodbye, its control channel closes, its ids
   * and idle connections are freed. Spliced streams run on, as when an account is disabled.
   */
  disconnect(sid: string, retryAfterSeconds: number, now: number): { found: boolean; commands: RelayCommand[] } {
    const state = this.state;
    state.out = [];
    const session = state.sessions.get(sid);
    if (!session) return { found: false, commands: [] };
    state.deps.log.info({ session: sid, user: session.user }, 'session disconnected by the operator');
    state.sendSealed(session, { t: 'goodbye', retryAfter: retryAfterSeconds });
    state.close(session.control, 'ok');
    endSession(state, session, now);
    return { found: true, commands: state.out };
  }

  #opened(id: ConnId, port: PortRole, source: string, now: number, endpoints: ClientEndpoints | undefined): void {
    const state = this.state;
    const admission = state.shuttingDown ? 'ok' : state.guard.admit(source, now);
    const conn: Conn = {
      id, port, phase: 'greeted', source, unauth: admission === 'ok', challenge: state.deps.random(32), eph: state.deps.ephemeral(now), greetedAt: now,
    };
    if (endpoints) conn.endpoints = endpoints;
    state.conns.set(id, conn);
    if (state.shuttingDown) return state.fail(id, 'ERR_SHUTTING_DOWN');
    if (admission !== 'ok') {
      state.logLimited(`refused:${source}`, now, { conn: id, source, admission }, 'connection refused');
      state.note({ kind: 'refused', at: now, port, reason: admission });
      return state.fail(id, admission === 'throttled' ? 'ERR_THROTTLED' : 'ERR_LIMIT');
    }
    greet(state, conn);
  }

  #frame(connId: ConnId, body: Buffer, now: number): void {
    const state = this.state;
    const conn = state.conns.get(connId);
    if (!conn || conn.closing) return;
    try {
      if (conn.phase === 'greeted') {
        const msg = parsePeerHandshake(decodeBody(body));
        if (msg.t === 'login') beginLogin(state, conn, msg.jwe, now);
        else handleAttach(state, conn, msg, now);
      } else if (conn.phase === 'control') {
        const session = state.sessions.get(conn.sid ?? '');
        if (!session) throw new BurrowError('ERR_PROTOCOL', 'no session');
        const msg = parsePeerControl(decodeBody(session.opener.open(body)));
        session.lastHeard = now;
        handleControl(state, session, msg, now);
        const waitMs = state.pace.take(session.user, now);
        if (waitMs > 0) state.out.push({ type: 'pause-reading', conn: connId, ms: waitMs });
      } else {
        throw new BurrowError('ERR_PROTOCOL', `frame in phase ${conn.phase}`);
      }
    } catch (err) {
      const code = codeOf(err);
      state.logLimited(`bad-frame:${conn.source}`, now, { conn: connId, phase: conn.phase, code }, 'bad frame, closing connection');
      if (conn.unauth) state.guard.penalize(conn.source, 'no-auth', now);
      state.fail(connId, code === 'ERR_DECRYPT' ? 'ERR_PROTOCOL' : code);
    }
  }

  #closed(connId: ConnId, now: number): void {
    const state = this.state;
    const conn = state.conns.get(connId);
    if (!conn) return;
    state.conns.delete(connId);
    // Greeted and gone without a word: free a few times (client trust, a peer at the wrong port), then
    // charged like a handshake that timed out (read the Hello, hang up, repeat, was free).
    if (conn.phase === 'greeted' && conn.unauth && !conn.closing) state.guard.hungUpAfterHello(conn.source, now);
    state.authenticated(conn);
    abandonLogin(state, conn, now);
    const session = conn.sid ? state.sessions.get(conn.sid) : undefined;
    if (conn.phase === 'control' && session?.control === connId) endSession(state, session, now);
    else if (conn.phase === 'pooled' && session) session.pool.splice(session.pool.indexOf(connId) >>> 0, 1);
    else if (conn.phase === 'waiting' && conn.dial) dialEnded(state, conn.dial);
    else if (conn.phase === 'joined' && conn.stream !== undefined) streamEnded(state, conn.stream);
  }

  #usersChanged(lookup: (user: string) => UserRecord | undefined, now: number): void {
    const state = this.state;
    // Names of accounts that are gone or disabled are not coming back: 404 from now on, not 503.
    for (const user of state.publications.goneAccounts()) {
      const record = lookup(user);
      if (!record || record.disabled) state.publications.forgetAccount(user);
    }
    for (const session of state.sessions.values()) {
      const record = lookup(session.user);
      if (!record || record.disabled || !record.roles.includes(session.port)) {
        state.deps.log.info({ session: session.sid, user: session.user }, 'account removed or disabled, ending its session');
        state.fail(session.control, 'ERR_AUTH_FAILED');
        // Not coming back: its names are let go without being remembered as gone for now (no 503, a 404).
        unpublishSession(state, session.sid);
        endSession(state, session, now);
        continue;
      }
      session.record = record;
      regrant(state, session, now);
      // Ids the account may no longer serve are withdrawn at once.
      for (const id of [...session.servers]) {
        if (!matchesAny(record.serve, id)) {
          state.registry.release(id, session.sid);
          session.servers.delete(id);
          state.registryChanged();
          state.deps.log.info({ session: session.sid, server: id }, 'server withdrawn: no longer allowed');
        }
      }
    }
  }

  #cluster(event: ClusterEvent, now: number): void {
    const state = this.state;
    switch (event.type) {
      case 'ticket-verified':
        return ticketVerified(state, event.conn, event.claims, event.record, now);
      case 'cluster-found':
        return remoteFound(state, event.dial, event.holder, event.unavailable === true, now);
      case 'cluster-dial-failed':
        return remoteDialFailed(state, event.dial, event.code);
      case 'remote-dial':
        return remoteDialRequested(state, event.dial, event.server, event.sid, event.origin);
      case 'ticket-minted':
        return ticketMinted(state, event.sid, event.purpose, event.ticket, event.exp);
      case 'cluster-claimed':
        return clusterClaimed(state, event.sid, event.request, event.refused, now, event.refusedPublications);
      case 'cluster-publications-taken':
        return publicationsTaken(state, event.urls);
      case 'cluster-listed':
        return clusterListed(state, event.sid, event.request, event.servers);
      case 'revoked':
        return revocationsChanged(state, event.users, now);
      case 'remote-session-ended':
        return sessionEnded(state, event.sid, now);
      case 'remote-penalty':
        state.guard.penalize(event.source, 'auth-fail', now);
        if (event.user !== undefined) state.guard.userFailed(event.user, event.source, now);
        return;
    }
  }

  #tick(now: number): void {
    const state = this.state;
    const { limits } = state.deps;
    for (const conn of state.conns.values()) {
      if (conn.closing) continue;
      if (conn.phase === 'greeted' && now - conn.greetedAt > limits.handshakeTimeoutMs) {
        // Only a peer that never proved itself is charged; an authenticated connection is never left here.
        state.logLimited(`handshake-timeout:${conn.source}`, now, { conn: conn.id, port: conn.port }, 'handshake timeout');
        if (conn.unauth) state.guard.penalize(conn.source, 'no-auth', now);
        state.fail(conn.id, 'ERR_HANDSHAKE_TIMEOUT');
      } else if (conn.ticketAttach && now - conn.greetedAt > limits.handshakeTimeoutMs + limits.loginTimeoutMs) {
        // A ticket check the cluster never answered: the relay's trouble, not the peer's.
        state.fail(conn.id, 'ERR_BUSY');
      }
    }
    expireLogins(state, now);
    failWaiting(state, (_pending, client) => client.deadline !== undefined && now >= client.deadline);
    for (const session of state.sessions.values()) {
      if (now - session.lastHeard > limits.deadMs) {
        state.deps.log.warn({ session: session.sid, user: session.user }, 'peer silent, closing session');
        state.close(session.control, 'ERR_TIMEOUT');
        // Its data connections are as silent as its control channel: a client joined to one would
        // otherwise wait out its own handshake timeout.
        for (const record of state.streams.values()) {
          if (record.skeletonSid === session.sid) {
            state.close(record.clientConn, 'ERR_SERVER_UNREACHABLE');
            state.close(record.skeletonConn, 'ERR_SERVER_UNREACHABLE');
          }
        }
        endSession(state, session, now);
      } else if (now - session.lastPing >= limits.pingMs) {
        session.lastPing = now;
        state.sendSealed(session, { t: 'ping', n: ++session.pingSeq });
      }
    }
  }
}
