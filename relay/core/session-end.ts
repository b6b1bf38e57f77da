/** Ending a session: its ids, idle data connections and the clients waiting on it are let go. */
import { sessionEnded } from './cluster-broker.js';
import { failWaiting } from './relay-broker.js';
import { unpublishSession } from './relay-publish.js';
import type { RelaySession } from './relay-session.js';
import type { RelayState } from './relay-state.js';

export function endSession(state: RelayState, session: RelaySession, now: number): void {
  if (!state.sessions.delete(session.sid)) return;
  if (![...state.sessions.values()].some((s) => s.user === session.user)) state.pace.forget(session.user);
  if (state.ticketed.delete(session.sid)) {
    sessionEnded(state, session.sid, now);
    state.out.push({ type: 'cluster-session-ended', sid: session.sid });
  }
  const freed = state.registry.releaseSession(session.sid);
  unpublishSession(state, session.sid, undefined, now);
  if (freed.length > 0) state.registryChanged();
  for (const pooled of session.pool.splice(0)) state.close(pooled, 'ok');
  failWaiting(state, (pending) => pending.skeletonSid === session.sid);
  // A client's streams still waiting for a dial end with its session; those already joined run on.
  failWaiting(state, (pending) => pending.clientSid === session.sid, 'ERR_SESSION_ENDED');
  state.deps.log.info({ session: session.sid, user: session.user, freed }, 'session ended');
  state.note({ kind: 'session-ended', at: now, session: session.sid, user: session.user, port: session.port });
}
