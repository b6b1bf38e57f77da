/** What goes into the relay core and what comes out. The core touches no socket and reads no clock. */
import type { ErrorCode } from '../../shared/errors.js';
import type { EphemeralKey } from '../../shared/crypto/ephemeral-key.js';
import type { LoginClaims } from '../../shared/crypto/login-token.js';
import type { AdvertisedServer, ClientEndpoints, PortRole, ServerInfo } from '../../shared/protocol/messages.js';
import type { TicketClaims } from '../../shared/crypto/session-ticket.js';
import type { Redacted } from '../../shared/redacted.js';
import type { UserRecord } from '../users/users-file.js';

export type ConnId = number;

export interface LoginVerdict {
  /** Claims from an opened login; absent when the login did not open. */
  claims?: LoginClaims;
  /** The account named in the claims, if it exists. */
  record?: UserRecord;
  /** Whether the password matched the account's argon2id hash. */
  passwordOk: boolean;
  /** The Welcome, sealed under the client key, ready to send if the core accepts. */
  welcomeJwe?: string;
}

export type RelayEvent =
  /** A connection was accepted from `source` (the peer's IP address). */
  | { type: 'opened'; conn: ConnId; port: PortRole; source: string; endpoints?: ClientEndpoints }
  | { type: 'frame'; conn: ConnId; body: Buffer }
  | { type: 'login-verified'; conn: ConnId; verdict: LoginVerdict }
  /** Raw bytes arrived on a connection the core holds (pooled or waiting). */
  | { type: 'raw-bytes'; conn: ConnId }
  /** The adapter could not frame what the connection sent (too large, garbage). */
  | { type: 'bad-bytes'; conn: ConnId; code: ErrorCode }
  | { type: 'closed'; conn: ConnId }
  /** The users file changed: sessions of removed, disabled or re-roled accounts end; others get new rights. */
  | { type: 'users-changed'; lookup: (user: string) => UserRecord | undefined }
  | { type: 'tick' }
  /** A public connection (already past the front door) wants the home server behind publication `url`. */
  | { type: 'public-open'; conn: ConnId; url: string; source: string; endpoints: ClientEndpoints }
  /** The adapter could not listen on a tcp publication's port. */
  | { type: 'public-listen-failed'; url: string }
  | ClusterEvent;

/** Where another relay of the cluster holds a server: its relay id and the skeleton session there. */
export interface RemoteHolder {
  relay: string;
  sid: string;
  user: string;
  proxy?: 'v1' | 'v2';
}

/** What a ticket is minted for: a skeleton's Dial to another relay, or a client's ticket request. */
export type TicketPurpose = { dial: string; server: string; origin: string } | { request: number };

/** Results of the cluster adapter's Redis work, fed back to the core (relay/cluster carries the commands out). */
export type ClusterEvent =
  /** A ticket attach was checked: claims if the ticket is good, else none; a client's account as this relay knows it. */
  | { type: 'ticket-verified'; conn: ConnId; claims?: TicketClaims; record?: UserRecord }
  /** A remote open's lookup: the holder, none (unknown), or Redis is unreachable. */
  | { type: 'cluster-found'; conn: ConnId; dial: string; holder?: RemoteHolder; unavailable?: boolean }
  /** The dial request could not be delivered to the holding relay. */
  | { type: 'cluster-dial-failed'; dial: string; code: ErrorCode }
  /** Another relay asks us to have one of our skeleton sessions dial it. */
  | { type: 'remote-dial'; dial: string; server: string; sid: string; origin: string }
  | { type: 'ticket-minted'; sid: string; purpose: TicketPurpose; ticket: string; exp: number }
  /** Ids and publication urls refused cluster-wide for a pending Advertise (another account holds them, or Redis is down). */
  | { type: 'cluster-claimed'; sid: string; request: number; refused: { id: string; code: ErrorCode }[]; refusedPublications?: { url: string; code: ErrorCode }[] }
  /** The registry sync found publication urls held here that another account owns in the cluster. */
  | { type: 'cluster-publications-taken'; urls: string[] }
  /** Servers other relays hold, for a pending listing; undefined when Redis is unreachable. */
  | { type: 'cluster-listed'; sid: string; request: number; servers?: ServerInfo[] }
  /** The cluster-wide set of revoked (disabled) accounts. */
  | { type: 'revoked'; users: string[] }
  /** Another relay of the cluster saw a failed login from this source (and name): count it here too (S6). */
  | { type: 'remote-penalty'; source: string; user?: string }
  /** A session of another relay that was given tickets has ended. */
  | { type: 'remote-session-ended'; sid: string };

export interface SessionGrantDraft {
  sid: string;
  sessionKey: Redacted<Buffer>;
  exp: number;
  pingMs: number;
}

export type RelayCommand =
  | { type: 'send'; conn: ConnId; frame: Buffer }
  /** Stop decoding frames on this connection; later bytes stay raw until it is spliced. */
  | { type: 'hold'; conn: ConnId }
  /** Read nothing more from this connection for `ms` (a session over its control message rate). */
  | { type: 'pause-reading'; conn: ConnId; ms: number }
  /** Raise or lower the largest frame accepted on this connection. */
  | { type: 'frame-limit'; conn: ConnId; bytes: number }
  /** Send nothing more, flush, then close. */
  | { type: 'close'; conn: ConnId; reason: ErrorCode | 'ok' }
  | { type: 'verify-login'; conn: ConnId; jwe: string; eph: EphemeralKey; grant: SessionGrantDraft }
  | {
    type: 'splice'; stream: number; client: ConnId; skeleton: ConnId; server: string; user: string;
    /**
     * A public stream: the publication, the public source (for the audit line), the key of the
     * relay-skeleton leg, the skeleton's session, and whether its server gets the public client's
     * endpoints (PROXY protocol asked for and allowed).
     */
    public?: { url: string; source: string; legKey: Redacted<Buffer>; sid: string; proxy: boolean };
  }
  /** Listen on a tcp publication's port (it just became live), or stop (nobody publishes it any more). */
  | { type: 'public-listen'; url: string; port: number }
  | { type: 'public-unlisten'; url: string; port: number }
  | ClusterCommand;

export type ClusterCommand =
  | { type: 'verify-ticket'; conn: ConnId; ticket: string }
  /** Find a relay holding `server` and ask it (pub/sub) to have its skeleton dial us for `dial`. */
  | { type: 'cluster-open'; conn: ConnId; server: string; dial: string }
  | { type: 'mint-ticket'; sid: string; user: string; port: PortRole; attachKey: Redacted<Buffer>; purpose: TicketPurpose }
  /** Claim ids and publication urls (those not yet confirmed here) cluster-wide for a skeleton account (S9 across relays). */
  | { type: 'cluster-claim'; sid: string; user: string; request: number; servers: AdvertisedServer[]; publications: string[] }
  | { type: 'cluster-list'; sid: string; request: number }
  /** The local registry changed: publish it (coalesced by the adapter). */
  | { type: 'cluster-sync' }
  /** A failed login here: tell the other relays (best effort). */
  | { type: 'cluster-penalty'; source: string; user?: string }
  /** A session that was given tickets ended here: its tickets open nothing at other relays either. */
  | { type: 'cluster-session-ended'; sid: string };

/** Why a login was refused. The wire answer is the same for all but throttled (S5); only metrics tell them apart. */
export type LoginFailure = 'bad-login' | 'unknown-user' | 'bad-password' | 'disabled' | 'wrong-role' | 'throttled' | 'session-limit' | 'abandoned';

/**
 * What the core noticed, for metrics and the admin API: no protocol decision depends on these. `at` is the
 * `now` the core was given. A failed login's `user` is the name as given (absent if the login did not open).
 */
export type RelayNote =
  | { kind: 'login'; ok: true; at: number; port: PortRole; user: string; session: string }
  | { kind: 'login'; ok: false; at: number; port: PortRole; user?: string; reason: LoginFailure }
  | { kind: 'session-ended'; at: number; session: string; user: string; port: PortRole }
  | { kind: 'refused'; at: number; port: PortRole; reason: 'throttled' | 'busy' }
  /** A client stream joined to a skeleton data connection, `waitedMs` after the client asked for it. */
  | { kind: 'joined'; at: number; stream: number; server: string; waitedMs: number };
