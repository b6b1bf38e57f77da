/**
 * Login decisions. Every way a login can be wrong ends in the same ERR_AUTH_FAILED answer (S5), and a
 * login is good only for the challenge of the connection it arrived on, within loginMaxAgeMs (S2).
 */
import { timingSafeEqual } from 'node:crypto';
import { FRAME_LIMITS, PROTOCOL_VERSION } from '../../shared/protocol/messages.js';
import { Redacted } from '../../shared/redacted.js';
import type { LoginFailure, LoginVerdict } from './relay-events.js';
import { RelaySession } from './relay-session.js';
import type { Conn, RelayState } from './relay-state.js';

export function greet(state: RelayState, conn: Conn): void {
  state.sendPlain(conn.id, {
    t: 'hello', v: PROTOCOL_VERSION, port: conn.port, challenge: conn.challenge, key: state.deps.identityKey, eph: conn.eph.raw, exp: conn.eph.exp, sig: conn.eph.sig,
  });
}

/** A Login joins the login queue; it is refused at once, before any work, if its source or the queue is full. */
export function beginLogin(state: RelayState, conn: Conn, jwe: string, now: number): void {
  conn.phase = 'verifying';
  // Connections opened before their source earned its penalty get no password check either.
  if (state.guard.throttled(conn.source, now)) {
    state.note({ kind: 'login', ok: false, at: now, port: conn.port, reason: 'throttled' });
    return state.fail(conn.id, 'ERR_THROTTLED');
  }
  const admission = state.logins.add(conn.source, conn.id, state.guard.trusted(conn.source));
  if (admission !== 'queued') {
    state.logLimited(`login-queue:${conn.source}`, now, { conn: conn.id, port: conn.port, source: conn.source, admission }, 'login refused: too many logins waiting');
    state.note({ kind: 'refused', at: now, port: conn.port, reason: 'busy' });
    return state.fail(conn.id, admission === 'source-full' ? 'ERR_LIMIT' : 'ERR_BUSY');
  }
  conn.login = { jwe, deadline: now + state.deps.limits.loginTimeoutMs };
  startLogins(state, now);
}

/**
 * Hands the adapter as many queued logins as may run now. A login whose source was penalised while it
 * waited is refused without its check, so a source's queued logins stop costing work once it has failed.
 */
export function startLogins(state: RelayState, now: number): void {
  for (let batch = state.logins.start(); batch.length > 0; batch = state.logins.start()) {
    for (const { conn: id, source } of batch) {
      const conn = state.conns.get(id);
      if (!conn?.login || state.guard.throttled(source, now)) {
        state.logins.finished(id);
        if (conn?.login) {
          state.note({ kind: 'login', ok: false, at: now, port: conn.port, reason: 'throttled' });
          state.fail(id, 'ERR_THROTTLED');
        }
        continue;
      }
      conn.grant = { sid: state.token(), sessionKey: new Redacted(state.deps.random(32)), exp: now + 24 * 3600_000, pingMs: state.deps.limits.pingMs };
      state.out.push({ type: 'verify-login', conn: id, jwe: conn.login.jwe, eph: conn.eph, grant: conn.grant });
    }
  }
}

/**
 * A login's connection went before its answer: whatever work it queued is dropped (or, already running,
 * its result ignored), and its source is charged as for a handshake it never finished.
 */
export function abandonLogin(state: RelayState, conn: Conn, now: number): void {
  if (!conn.login) return;
  conn.login = undefined;
  state.logins.remove(conn.source, conn.id);
  state.guard.penalize(conn.source, 'no-auth', now);
  state.note({ kind: 'login', ok: false, at: now, port: conn.port, reason: 'abandoned' });
}

/** Logins that waited past their deadline for a check are refused (the relay's load, not the peer's fault). */
export function expireLogins(state: RelayState, now: number): void {
  for (const conn of state.conns.values()) {
    if (!conn.login || conn.closing || now <= conn.login.deadline || !state.logins.remove(conn.source, conn.id)) continue;
    conn.login = undefined;
    state.logLimited('login-timeout', now, { conn: conn.id, port: conn.port }, 'login refused: waited too long for its password check');
    state.fail(conn.id, 'ERR_BUSY');
  }
}

/** Why a login cannot be accepted, or undefined if it can. Every reason gets the same wire answer. */
function refusal(conn: Conn, verdict: LoginVerdict, now: number, maxAgeMs: number, revoked: boolean): LoginFailure | undefined {
  const { claims, record } = verdict;
  if (!claims) return 'bad-login';
  if (!record) return 'unknown-user';
  if (!verdict.passwordOk || !verdict.welcomeJwe) return 'bad-password';
  if (now - conn.greetedAt > maxAgeMs) return 'bad-login';
  if (claims.port !== conn.port || !timingSafeEqual(claims.challenge, conn.challenge)) return 'bad-login';
  if (record.disabled || revoked) return 'disabled';
  return record.roles.includes(conn.port) ? undefined : 'wrong-role';
}

export function finishLogin(state: RelayState, conn: Conn, verdict: LoginVerdict, now: number): void {
  const log = state.deps.log;
  const { grant } = conn;
  conn.grant = undefined;
  conn.login = undefined;
  const name = verdict.claims?.user;
  const reason = grant ? refusal(conn, verdict, now, state.deps.limits.loginMaxAgeMs, name !== undefined && state.revoked.has(name)) : 'bad-login';
  const good = reason === undefined;
  const failed = (why: LoginFailure): void => state.note({ kind: 'login', ok: false, at: now, port: conn.port, reason: why, ...(name !== undefined ? { user: name } : {}) });
  if (!good) {
    state.guard.penalize(conn.source, 'auth-fail', now);
    if (name !== undefined) state.guard.userFailed(name, conn.source, now);
    if (state.deps.cluster) state.out.push({ type: 'cluster-penalty', source: conn.source, ...(name !== undefined ? { user: name } : {}) });
  }
  // A throttled name gets the same answer whether or not the password was right, so guessing is useless.
  if (name !== undefined && state.guard.userThrottled(name, conn.source, now)) {
    state.logLimited(`login-throttled:${conn.source}`, now, { conn: conn.id, port: conn.port, source: conn.source }, 'login throttled for this user name');
    failed('throttled');
    state.fail(conn.id, 'ERR_THROTTLED');
    return;
  }
  if (!good || !grant || !verdict.claims || !verdict.record) {
    state.logLimited(`login-failed:${conn.source}`, now, { conn: conn.id, port: conn.port, source: conn.source }, 'login failed');
    failed(reason ?? 'bad-login');
    state.fail(conn.id, 'ERR_AUTH_FAILED');
    return;
  }
  const user = verdict.claims.user;
  state.guard.userSucceeded(user, conn.source);
  // Over its budget of successful logins, the source is charged (the login itself still succeeds).
  if (!state.guard.loginSucceeded(conn.source, now)) {
    state.logLimited(`login-budget:${conn.source}`, now, { conn: conn.id, source: conn.source }, 'source over its login budget: charged');
  }
  state.authenticated(conn);
  const sessionsOfUser = [...state.sessions.values()].filter((s) => s.user === user).length;
  if (sessionsOfUser >= state.deps.limits.maxSessionsPerUser) {
    // A right password that cannot get a session still cost a password check: charged like a failure,
    // so an account cannot keep the login queue busy from its own addresses.
    state.guard.penalize(conn.source, 'auth-fail', now);
    state.logLimited(`session-limit:${user}`, now, { conn: conn.id, user }, 'session limit reached');
    failed('session-limit');
    state.fail(conn.id, 'ERR_LIMIT');
    return;
  }
  const session = new RelaySession({
    sid: grant.sid, user, record: verdict.record, port: conn.port, control: conn.id, sessionKey: grant.sessionKey.reveal(), now,
  });
  state.sessions.set(session.sid, session);
  conn.phase = 'control';
  conn.sid = session.sid;
  state.sendPlain(conn.id, { t: 'welcome', jwe: verdict.welcomeJwe! });
  state.out.push({ type: 'frame-limit', conn: conn.id, bytes: FRAME_LIMITS.control });
  log.info({ conn: conn.id, user, port: conn.port, session: session.sid }, 'logged in');
  state.note({ kind: 'login', ok: true, at: now, port: conn.port, user, session: session.sid });
}
