/**
 * Drives the sans-IO RelayCore with no network and a hand-advanced clock: greets connections, logs
 * peers in with hand-made verdicts, seals their control frames and opens everything sealed to them.
 */
import type { RelayDeps } from '../../relay/core/relay-state.js';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { attachMac } from '../../shared/crypto/attach-proof.js';
import { ControlOpener, ControlSealer } from '../../shared/crypto/control-cipher.js';
import { EphemeralKeyRing } from '../../shared/crypto/ephemeral-key.js';
import { deriveSessionKeys, type SessionKeys } from '../../shared/crypto/session-keys.js';
import { silentLogger } from '../../shared/log.js';
import { decodeBody, encodeBody, frame } from '../../shared/protocol/codec.js';
import type {
  AttachPurpose, Hello, PeerControlMessage, PeerHandshakeMessage, PortRole, RelayControlMessage, RelayHandshakeMessage,
} from '../../shared/protocol/messages.js';
import { parseRelayControl, parseRelayHandshake } from '../../shared/protocol/parse.js';
import { Redacted } from '../../shared/redacted.js';
import { RelayCore } from '../../relay/core/relay-core.js';
import type { ConnId, LoginVerdict, RelayCommand, RelayEvent, RelayNote } from '../../relay/core/relay-events.js';
import { DEFAULT_RELAY_LIMITS, type RelayLimits } from '../../relay/core/relay-limits.js';
import type { Role, UserRecord } from '../../relay/users/users-file.js';

export const T0 = 1_700_000_000_000;
const HASH = '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g';

export function userRecord(roles: Role[], patterns: { serve?: string[]; access?: string[]; publish?: string[]; disabled?: boolean } = {}): UserRecord {
  return {
    hash: HASH, roles, serve: patterns.serve ?? [], access: patterns.access ?? [], ...(patterns.publish ? { publish: patterns.publish } : {}), disabled: patterns.disabled ?? false,
  };
}

export interface Peer {
  user: string;
  port: PortRole;
  conn: ConnId;
  sid: string;
  keys: SessionKeys;
  sealer: ControlSealer;
  opener: ControlOpener;
  /** Everything the relay sealed to this peer, opened in order, not yet taken. */
  inbox: RelayControlMessage[];
}

/** Plain frames sent to a connection, decoded. */
export function plainTo(conn: ConnId, cmds: RelayCommand[]): RelayHandshakeMessage[] {
  return framesTo(conn, cmds).map((f) => parseRelayHandshake(decodeBody(f.subarray(4))));
}

export function framesTo(conn: ConnId, cmds: RelayCommand[]): Buffer[] {
  return cmds.flatMap((c) => (c.type === 'send' && c.conn === conn ? [c.frame] : []));
}

export function closed(conn: ConnId, cmds: RelayCommand[]): boolean {
  return cmds.some((c) => c.type === 'close' && c.conn === conn);
}

function rawEd25519(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url');
}

export class RelayHarness {
  readonly core: RelayCore;
  readonly limits: RelayLimits;
  now = T0;
  /** The address new connections come from; tests change it to act from elsewhere. */
  source = '192.0.2.1';
  /** Everything the core noted through its observe hook, in order. */
  readonly notes: RelayNote[] = [];
  readonly #peers = new Map<ConnId, Peer>();
  #nextConn = 1;
  #counter = 0;

  constructor(limits: Partial<RelayLimits> = {}, extra: Pick<RelayDeps, 'cluster' | 'guard' | 'ingress'> = {}) {
    this.limits = { ...DEFAULT_RELAY_LIMITS, ...limits };
    const identity = generateKeyPairSync('ed25519');
    const ring = new EphemeralKeyRing(identity.privateKey);
    this.core = new RelayCore({
      random: (n) => this.#random(n), ephemeral: (now) => ring.current(now), identityKey: rawEd25519(identity.publicKey), log: silentLogger(), limits: this.limits,
      observe: (note) => this.notes.push(note), ...extra,
    });
  }

  /** Deterministic, distinct bytes per call. */
  #random(n: number): Buffer {
    const counter = ++this.#counter;
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = (counter * 31 + i * 7) & 0xff;
    if (n >= 4) out.writeUInt32BE(counter, 0);
    return out;
  }

  handle(event: RelayEvent): RelayCommand[] {
    const cmds = this.core.handle(event, this.now);
    for (const c of cmds) {
      const peer = c.type === 'send' ? this.#peers.get(c.conn) : undefined;
      if (peer && c.type === 'send') peer.inbox.push(parseRelayControl(decodeBody(peer.opener.open(c.frame.subarray(4)))));
    }
    return cmds;
  }

  tick(): RelayCommand[] {
    return this.handle({ type: 'tick' });
  }

  /** Opens a connection and returns its id and the Hello it was greeted with. */
  greet(port: PortRole): { conn: ConnId; hello: Hello } {
    const conn = this.#nextConn++;
    const [hello] = plainTo(conn, this.handle({ type: 'opened', conn, port, source: this.source }));
    if (hello?.t !== 'hello') throw new Error('no hello');
    return { conn, hello };
  }

  sendPlain(conn: ConnId, msg: PeerHandshakeMessage): RelayCommand[] {
    return this.handle({ type: 'frame', conn, body: encodeBody(msg) });
  }

  /** Sends a Login and returns the verify-login command the core asks the adapter to run. */
  beginLogin(conn: ConnId): Extract<RelayCommand, { type: 'verify-login' }> {
    const verify = this.sendPlain(conn, { t: 'login', jwe: 'a.b.c.d.e' }).find((c) => c.type === 'verify-login');
    if (verify?.type !== 'verify-login') throw new Error('no verify-login');
    return verify;
  }

  verdict(hello: Hello, user: string, record: UserRecord | undefined, port: PortRole = hello.port): LoginVerdict {
    return {
      claims: { user, password: new Redacted('x'), challenge: hello.challenge, clientKey: new Redacted(Buffer.alloc(32)), port },
      ...(record ? { record } : {}),
      passwordOk: true,
      welcomeJwe: 'a.b.c.d.e',
    };
  }

  /** A full, successful login. */
  login(user: string, port: PortRole, record: UserRecord): Peer {
    const { conn, hello } = this.greet(port);
    const { grant } = this.beginLogin(conn);
    const cmds = this.handle({ type: 'login-verified', conn, verdict: this.verdict(hello, user, record) });
    if (plainTo(conn, cmds)[0]?.t !== 'welcome') throw new Error('login refused');
    const keys = deriveSessionKeys(grant.sessionKey.reveal(), grant.sid);
    const peer: Peer = {
      user, port, conn, sid: grant.sid, keys, sealer: new ControlSealer(keys.peerToRelay), opener: new ControlOpener(keys.relayToPeer), inbox: [],
    };
    this.#peers.set(conn, peer);
    return peer;
  }

  sealed(peer: Peer, msg: PeerControlMessage): Buffer {
    return peer.sealer.seal(encodeBody(msg));
  }

  control(peer: Peer, msg: PeerControlMessage): RelayCommand[] {
    return this.handle({ type: 'frame', conn: peer.conn, body: this.sealed(peer, msg) });
  }

  /** Takes everything sealed to the peer so far. */
  take(peer: Peer): RelayControlMessage[] {
    return peer.inbox.splice(0);
  }

  /**
   * What the relay sealed to a logged-in peer that no test took yet. A test that ends with
   * `t.deepEqual(h.unread(), [])` proves it left no message unasserted: an unexpected Dial, Goodbye or
   * Withdrawn fails it.
   */
  unread(): { user: string; conn: ConnId; messages: RelayControlMessage[] }[] {
    return [...this.#peers.values()].filter((p) => p.inbox.length > 0).map((p) => ({ user: p.user, conn: p.conn, messages: [...p.inbox] }));
  }

  advertise(peer: Peer, ids: string[]): RelayControlMessage[] {
    this.control(peer, { t: 'advertise', id: 1, servers: ids.map((id) => ({ id, description: `${id} server`, protocol: 'tcp' })) });
    return this.take(peer);
  }

  list(peer: Peer): string[] {
    this.control(peer, { t: 'list', id: 2 });
    const reply = this.take(peer).find((m) => m.t === 'servers');
    if (reply?.t !== 'servers') throw new Error('no servers reply');
    return reply.servers.map((s) => s.id);
  }

  /** A data connection of the peer's session: greeted, then an Attach with a MAC over its own challenge. */
  attach(peer: Peer, purpose: AttachPurpose, extra: { server?: string; dial?: string } = {}): { conn: ConnId; cmds: RelayCommand[] } {
    const { conn, hello } = this.greet(peer.port);
    const claim = { sid: peer.sid, purpose, ...extra };
    return { conn, cmds: this.sendPlain(conn, { t: 'attach', ...claim, mac: attachMac(peer.keys.attach, hello.challenge, claim) }) };
  }

  closeConn(conn: ConnId): RelayCommand[] {
    this.#peers.delete(conn);
    return this.handle({ type: 'closed', conn });
  }
}
