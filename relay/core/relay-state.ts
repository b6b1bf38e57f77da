/** The relay core's state, shared by its handlers, and the helpers they use to queue commands. */
import type { EphemeralKey } from '../../shared/crypto/ephemeral-key.js';
import type { ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { UserRecord } from '../users/users-file.js';
import { encodeBody, encodeFrame, frame } from '../../shared/protocol/codec.js';
import type { ClientEndpoints, PortRole, RelayControlMessage, RelayHandshakeMessage } from '../../shared/protocol/messages.js';
import type { Attach } from '../../shared/protocol/messages.js';
import type { ConnId, RelayCommand, RelayNote, SessionGrantDraft } from './relay-events.js';
import type { RelayLimits } from './relay-limits.js';
import type { RelaySession } from './relay-session.js';
import { AccountPace } from './account-pace.js';
import { DialTable } from './dial-table.js';
import { LogLimiter } from '../../shared/log-limiter.js';
import { LoginQueue } from './login-queue.js';
import { ServerRegistry } from './server-registry.js';
import { PublicationRegistry } from './publication-registry.js';
import type { IngressOffer, PublishOutcome } from './relay-publish.js';
import { DEFAULT_GUARD_LIMITS, SourceGuard, type GuardLimits } from './source-guard.js';

export type ConnPhase = 'greeted' | 'verifying' | 'control' | 'pooled' | 'waiting' | 'joined';

export interface Conn {
  id: ConnId;
  port: PortRole;
  phase: ConnPhase;
  /** The penalty unit of the peer's address (see source-guard.ts). */
  source: string;
  /** The connection's own addresses, for PROXY protocol headers (S10: sent only when allowed). */
  endpoints?: ClientEndpoints;
  /** Counted against the unauthenticated-connection caps until it logs in, attaches or closes. */
  unauth: boolean;
  challenge: Buffer;
  eph: EphemeralKey;
  greetedAt: number;
  sid?: string;
  /** For a waiting client stream: the dial it waits for, its server and when it gives up. */
  dial?: string;
  server?: string;
  deadline?: number;
  /** When a client data connection asked for its stream (for the dial latency metric). */
  openedAt?: number;
  stream?: number;
  /** Told to close: nothing more is processed or penalised for it while its socket winds down. */
  closing?: boolean;
  /** A login waiting for or in its password check, and when it stops waiting (see login-queue.ts). */
  login?: { jwe: string; deadline: number };
  /** The session this connection gets if its login is accepted. */
  grant?: SessionGrantDraft;
  /** A ticket attach waiting for its ticket to be checked. */
  ticketAttach?: Attach;
  /** A public connection (public ingress) for this publication url; it has no socket of the core's framing. */
  public?: string;
}

export type { PendingDial } from './dial-table.js';

/** Who a client stream counts against: a session here, or a guest (a client of another relay, by ticket). */
export interface StreamOwner {
  sid: string;
  user: string;
  record: UserRecord;
  streams: number;
  /** A publication's public connections: capped by its front door, not by a session's stream limits. */
  public?: true;
}

/** Cluster mode: this relay's id and the skeleton-port address other relays hand to skeletons. */
export interface ClusterIdentity {
  relayId: string;
  advertise: string;
}

export interface StreamRecord {
  clientSid: string;
  skeletonSid: string;
  clientConn: ConnId;
  skeletonConn: ConnId;
  counted: boolean;
  server: string;
  clientUser: string;
  skeletonUser: string;
  since: number;
}

export interface RelayDeps {
  random: (n: number) => Buffer;
  ephemeral: (now: number) => EphemeralKey;
  /** The relay's Ed25519 identity public key, raw, sent in every Hello. */
  identityKey: Buffer;
  log: Logger;
  limits: RelayLimits;
  guard?: GuardLimits;
  /** Whether skeletons may ask for the real client address in PROXY protocol headers. */
  allowProxyProtocol?: boolean;
  /** Observation hook for metrics and the admin API; called synchronously, never decides anything. */
  observe?: (note: RelayNote) => void;
  /** Set when the relay is part of a cluster (shared state in Redis); absent: a single relay. */
  cluster?: ClusterIdentity;
  /** Public ingress this relay offers; absent: none. */
  ingress?: IngressOffer;
}

/** Lines of one kind (one message) the relay writes at once before the per-kind budget applies. */
const LINES_OF_A_KIND = 50;

export class RelayState {
  readonly conns = new Map<ConnId, Conn>();
  readonly sessions = new Map<string, RelaySession>();
  readonly registry = new ServerRegistry();
  readonly dials = new DialTable();
  readonly publications = new PublicationRegistry();
  /** What each publication's public streams count against, while it has any. */
  readonly publicOwners = new Map<string, StreamOwner>();
  /** Streams (joined or waiting) per client account, over all its sessions and guest records here. */
  readonly #userStreams = new Map<string, number>();
  readonly streams = new Map<number, StreamRecord>();
  /** Cluster: clients of other relays with streams here (attached by ticket), while they have any. */
  readonly guests = new Map<string, StreamOwner>();
  /** Cluster: Advertise replies waiting for the cluster-wide claim, by `sid:request`. */
  readonly pendingClaims = new Map<string, { accepted: string[]; rejected: { id: string; code: ErrorCode }[]; publications: string[]; published?: PublishOutcome }>();
  /** Cluster: listings waiting for the servers other relays hold, by `sid:request`, with their page cursor. */
  readonly pendingLists = new Map<string, { after: string | undefined }>();
  /** Cluster: sessions (here or at other relays) that ended after being given tickets, with when to forget them. */
  readonly endedSessions = new Map<string, number>();
  /** Cluster: sessions of this relay that were given tickets (their end is told to the cluster). */
  readonly ticketed = new Set<string>();
  /** Cluster: accounts disabled on some relay of the cluster. */
  revoked: ReadonlySet<string> = new Set();
  readonly guard: SourceGuard;
  readonly logins: LoginQueue;
  readonly pace: AccountPace;
  readonly #logLimiter = new LogLimiter();
  /** One line of a kind per 200 ms at most, over all its keys, after a burst of LINES_OF_A_KIND. */
  readonly #linesOfKind = new LogLimiter(200);
  nextStream = 1;
  out: RelayCommand[] = [];
  shuttingDown = false;

  constructor(readonly deps: RelayDeps) {
    this.guard = new SourceGuard(deps.guard ?? DEFAULT_GUARD_LIMITS);
    const { loginConcurrency, maxLoginsPerSource, maxQueuedLogins } = deps.limits;
    this.logins = new LoginQueue({ concurrency: loginConcurrency, perSource: maxLoginsPerSource, total: maxQueuedLogins });
    this.pace = new AccountPace(deps.limits.controlBurst, deps.limits.controlPerSecond);
  }

  /** The connection proved itself (login or attach): it no longer counts as unauthenticated. */
  authenticated(conn: Conn): void {
    if (!conn.unauth) return;
    conn.unauth = false;
    this.guard.release(conn.source);
  }

  /** The session or guest a client stream counts against. */
  owner(sid: string): StreamOwner | undefined {
    return this.sessions.get(sid) ?? this.guests.get(sid) ?? this.publicOwners.get(sid);
  }

  /** Streams of `user` open or waiting here, over all its sessions. */
  streamsOf(user: string): number {
    return this.#userStreams.get(user) ?? 0;
  }

  /** A stream (joined or waiting for a dial) now counts against its owner and the owner's account. */
  countStream(owner: StreamOwner): void {
    owner.streams++;
    this.#userStreams.set(owner.user, this.streamsOf(owner.user) + 1);
  }

  /** A counted stream ended or will not be joined; the owner may be gone by now, the account is not. */
  uncountStream(sid: string, user: string): void {
    const owner = this.owner(sid);
    if (owner) owner.streams--;
    const n = this.streamsOf(user) - 1;
    if (n > 0) this.#userStreams.set(user, n);
    else this.#userStreams.delete(user);
    this.releaseGuest(sid);
  }

  /** A guest with no stream left is forgotten. */
  releaseGuest(sid: string): void {
    const guest = this.guests.get(sid);
    if (guest && guest.streams <= 0) this.guests.delete(sid);
    const pub = this.publicOwners.get(sid);
    if (pub && pub.streams <= 0) this.publicOwners.delete(sid);
  }

  /** In a cluster, the local registry changed and must be published. */
  registryChanged(): void {
    if (this.deps.cluster) this.out.push({ type: 'cluster-sync' });
  }

  /** A log line a peer can trigger: once per `key` and window, with the count of lines left out (log-limiter.ts). */
  logLimited(key: string, now: number, fields: Record<string, unknown>, message: string, level: 'warn' | 'info' = 'warn', burst = 1): void {
    const suppressed = this.#logLimiter.admit(key, now, burst);
    if (suppressed === undefined) return;
    // And a budget per kind of line over all keys: sources that rotate (an IPv6 range) get no line each.
    const alsoSuppressed = this.#linesOfKind.admit(message, now, LINES_OF_A_KIND);
    if (alsoSuppressed === undefined) return;
    const left = suppressed + alsoSuppressed;
    this.deps.log[level](left > 0 ? { ...fields, suppressed: left } : fields, message);
  }

  note(note: RelayNote): void {
    this.deps.observe?.(note);
  }

  token(bytes = 16): string {
    return this.deps.random(bytes).toString('base64url');
  }

  sendPlain(conn: ConnId, message: RelayHandshakeMessage): void {
    this.out.push({ type: 'send', conn, frame: encodeFrame(message) });
  }

  sendSealed(session: RelaySession, message: RelayControlMessage): void {
    this.out.push({ type: 'send', conn: session.control, frame: frame(session.sealer.seal(encodeBody(message))) });
  }

  /** Answers with a wire error (plain before login) and closes the connection. */
  fail(conn: ConnId, code: ErrorCode): void {
    const c = this.conns.get(conn);
    if (c?.closing) return;
    const session = c?.sid ? this.sessions.get(c.sid) : undefined;
    if (c?.phase === 'control' && session && session.control === conn) this.sendSealed(session, { t: 'error', code });
    else if (c && c.phase !== 'joined') this.sendPlain(conn, { t: 'error', code });
    this.markClosing(conn);
    this.out.push({ type: 'close', conn, reason: code });
  }

  close(conn: ConnId, reason: ErrorCode | 'ok'): void {
    if (this.conns.get(conn)?.closing) return;
    this.markClosing(conn);
    this.out.push({ type: 'close', conn, reason });
  }

  markClosing(conn: ConnId): void {
    const c = this.conns.get(conn);
    if (!c) return;
    c.closing = true;
    // A login of a connection we close will never be answered: its queued work goes with it.
    if (c.login) this.logins.remove(c.source, c.id);
    c.login = undefined;
  }
}
