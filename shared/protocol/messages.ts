/**
 * Every message burrow sends between peers and the relay, one discriminated union per phase and
 * direction. The `t` field names the message. Handshake messages travel in plain frames; control
 * messages travel sealed (see shared/crypto/control-cipher.ts) after login.
 */
import type { ErrorCode } from '../errors.js';

export const PROTOCOL_VERSION = 1;

export const FRAME_LIMITS = {
  /** Largest frame accepted before login or attach completes. */
  handshake: 8 * 1024,
  /** Largest sealed control frame. */
  control: 64 * 1024,
} as const;

export type PortRole = 'client' | 'skeleton';
export type AttachPurpose = 'stream' | 'pool' | 'dial';

/** What a listing shows of a server: never an address. */
export interface ServerInfo {
  id: string;
  description: string;
  protocol: string;
}

/** What a skeleton advertises of a server: the listing, plus whether it wants PROXY protocol headers. */
export interface AdvertisedServer extends ServerInfo {
  proxy?: 'v1' | 'v2';
  /** Served only through publications (it has no secret): never listed to clients, never opened by one. */
  publicOnly?: boolean;
}

/** Kinds of public ingress: a TCP port of its own, a host name on the shared HTTP port, one on the shared HTTPS port (SNI, passed through). */
export type PublicationKind = 'tcp' | 'udp' | 'http' | 'https';

/**
 * A skeleton asks the relay to take public connections for one of its servers. `url` is canonical:
 * `tcp://:PORT`, `http://HOST` or `https://HOST` (HOST lower case, may start with `*.`). The rules are
 * enforced by the relay's front door, within its own relay-wide caps.
 */
export interface Publication {
  server: string;
  url: string;
  /** CIDR lists: only sources in `allow` (when given) and none in `deny` get through. */
  allow?: string[];
  deny?: string[];
  /** Concurrent public connections of this publication. */
  maxConns?: number;
  /** New connections per second from one source. */
  rate?: number;
  /** HTTP only: add X-Forwarded-For/-Proto/-Host and Forwarded (replacing any the public client sent). */
  forwarded?: boolean;
}

/** The real client's endpoints, sent with a Bind only for a server that opted in to PROXY protocol. */
export interface ClientEndpoints {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

// ---- handshake, relay -> peer ----
export interface Hello {
  t: 'hello';
  v: number;
  port: PortRole;
  challenge: Buffer;
  /** The relay's Ed25519 identity public key, raw 32 bytes; peers check it against their pinned fingerprint. */
  key: Buffer;
  /** The relay's current ephemeral X25519 public key, raw 32 bytes. */
  eph: Buffer;
  /** Expiry of the ephemeral key, ms since the epoch. */
  exp: number;
  /** Ed25519 signature by the relay identity over (version, eph, exp). */
  sig: Buffer;
}
export interface Welcome {
  t: 'welcome';
  jwe: string;
}
/** A client stream connection has been joined; what follows is the skeleton's bytes. */
export interface Joined {
  t: 'joined';
}
/** A skeleton data connection is being joined to a client stream for this server. */
export interface Bind {
  t: 'bind';
  server: string;
  proxy?: ClientEndpoints;
  /**
   * A public connection (publication), not a burrow client: the relay itself runs the end-to-end
   * handshake, keyed with the session's public-leg key instead of the server secret.
   */
  public?: boolean;
}
export interface ErrorMessage {
  t: 'error';
  /** Request id on the control channel, when the error answers a request. */
  id?: number;
  code: ErrorCode;
}

// ---- handshake, peer -> relay ----
export interface Login {
  t: 'login';
  jwe: string;
}
export interface Attach {
  t: 'attach';
  sid: string;
  purpose: AttachPurpose;
  /** For purpose 'stream': the server to join. */
  server?: string;
  /** For purpose 'dial': the dial id the relay asked for. */
  dial?: string;
  /**
   * Cluster: a session ticket from another relay of the cluster (a JWT signed with the shared identity key,
   * carrying the session's attach key sealed to the cluster). Without it the sid must be a session of this relay.
   */
  ticket?: string;
  mac: Buffer;
}

// ---- control, peer -> relay ----
export interface Advertise {
  t: 'advertise';
  id: number;
  servers: AdvertisedServer[];
  /**
   * The skeleton process's own random token, the same on every session it makes. A session of the same
   * account and instance takes the ids over (its stale session); one of another instance serves them
   * beside it (a load-balancing group). Absent: takeover, as before groups.
   */
  instance?: string;
  /**
   * Sent by a skeleton that another session of its own instance displaced (Withdrawn): ask for ids only
   * if that other session does not hold them, instead of taking them back. Without it, two skeletons of
   * one instance (two on one host) would take the ids from each other over and over.
   */
  yield?: boolean;
  /** Publications of this skeleton's servers (the whole list, like `servers`); absent: none. */
  publish?: Publication[];
}
/** One page of the servers this account may see: those whose id sorts after `after` (the first page without it). */
export interface ListServers {
  t: 'list';
  id: number;
  after?: string;
}
/** Cluster: ask for a session ticket, to attach data connections at another relay of the cluster. */
export interface TicketRequest {
  t: 'ticket-request';
  id: number;
}
export interface Ping {
  t: 'ping';
  n: number;
}
export interface Pong {
  t: 'pong';
  n: number;
}

// ---- control, relay -> peer ----
export interface Advertised {
  t: 'advertised';
  id: number;
  accepted: string[];
  rejected: { id: string; code: ErrorCode }[];
  /** Publication urls now live, and those refused with why (present when the Advertise had `publish`). */
  published?: string[];
  unpublished?: { url: string; code: ErrorCode }[];
}
export interface Servers {
  t: 'servers';
  id: number;
  servers: ServerInfo[];
  /** Present when more servers follow: ask again with `after` set to it. */
  next?: string;
}
export interface Dial {
  t: 'dial';
  dial: string;
  server: string;
  /** Cluster: dial this relay (HOST:PORT of its skeleton port) instead, attaching with `ticket`. */
  relay?: string;
  ticket?: string;
}
export interface Ticket {
  t: 'ticket';
  id: number;
  ticket: string;
  /** Expiry, ms since the epoch. */
  exp: number;
}
/** Ids this session no longer serves because another session of its account took them over. */
export interface Withdrawn {
  t: 'withdrawn';
  servers: string[];
  code: ErrorCode;
  /** Publication urls this session no longer holds (taken over, revoked, or the relay could not listen). */
  publications?: string[];
}
export interface Goodbye {
  t: 'goodbye';
  /** Seconds after which the peer should reconnect. */
  retryAfter: number;
}

export type RelayHandshakeMessage = Hello | Welcome | Joined | Bind | ErrorMessage;
export type PeerHandshakeMessage = Login | Attach;
export type PeerControlMessage = Advertise | ListServers | TicketRequest | Ping | Pong;
export type RelayControlMessage = Advertised | Servers | Dial | Ticket | Withdrawn | ErrorMessage | Ping | Pong | Goodbye;
