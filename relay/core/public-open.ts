/**
 * A public connection (someone on the internet at a published port or host name) asks for its home
 * server: the same broker as a client stream (an idle pooled data connection, else a Dial), without a
 * burrow login. The relay itself runs the end-to-end handshake with the skeleton (Bind `public`), so the
 * leg between relay and home is encrypted although the public speaks plain TCP, HTTP or its own TLS.
 * Public connections count per publication: their waiting dials against --max-waiting-streams.
 */
import type { ClientEndpoints } from '../../shared/protocol/messages.js';
import type { UserRecord } from '../users/users-file.js';
import type { ConnId } from './relay-events.js';
import { brokerStream } from './relay-broker.js';
import type { Conn, RelayState, StreamOwner } from './relay-state.js';

const NO_RIGHTS: UserRecord = { hash: '', roles: [], serve: [], access: [], disabled: false };

/** What public streams of one publication count against (the broker's notion of a stream's owner). */
export function publicOwner(state: RelayState, url: string): StreamOwner {
  const sid = `public:${url}`;
  let owner = state.publicOwners.get(sid);
  if (!owner) {
    owner = { sid, user: sid, record: NO_RIGHTS, streams: 0, public: true };
    state.publicOwners.set(sid, owner);
  }
  return owner;
}

export function openPublic(state: RelayState, id: ConnId, url: string, source: string, endpoints: ClientEndpoints, now: number): void {
  const conn: Conn = {
    id, port: 'client', phase: 'waiting', source, endpoints, unauth: false, challenge: Buffer.alloc(0), eph: state.deps.ephemeral(now), greetedAt: now, public: url,
  };
  state.conns.set(id, conn);
  if (state.shuttingDown) return state.fail(id, 'ERR_SHUTTING_DOWN');
  const pub = state.publications.get(url);
  if (!pub || pub.pending) return state.fail(id, 'ERR_UNKNOWN_SERVER');
  const owner = publicOwner(state, url);
  conn.sid = owner.sid;
  // The sessions that asked for the server the publication now points at (holders may differ in it).
  brokerStream(state, conn, owner, pub.server, now, (sid) => pub.asked.get(sid)?.server === pub.server);
}
