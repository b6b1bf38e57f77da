/**
 * Runs the relay core: gives it socket events and the time, carries out its commands on sockets,
 * verifies logins off the event loop, splices joined streams and writes one audit line per stream.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { EphemeralKeyRing } from '../../shared/crypto/ephemeral-key.js';
import type { Logger } from '../../shared/log.js';
import { splice, spliceCounter, type SpliceResult } from '../../shared/net/splice.js';
import type { PortRole } from '../../shared/protocol/messages.js';
import { RelayCore } from '../core/relay-core.js';
import type { ClusterCommand, ConnId, RelayCommand, RelayEvent, RelayNote } from '../core/relay-events.js';
import { relaySnapshot, type RelaySnapshot } from '../core/relay-snapshot.js';
import type { RelayLimits } from '../core/relay-limits.js';
import type { GuardLimits } from '../core/source-guard.js';
import type { ClusterIdentity } from '../core/relay-state.js';
import type { PasswordHasher } from '../users/password-hash.js';
import { verifyLogin } from './login-verifier.js';
import { IdleStreams } from './idle-streams.js';
import { LiveStreams, type DirectionBytes } from './live-streams.js';
import { RelayConnection } from './relay-connection.js';
import { PublicLegs, type PublicEnd } from './public-legs.js';
import { PublicTunnels, type PublicStreamInfo } from './public-tunnels.js';
import type { IngressOffer } from '../core/relay-publish.js';
import type { SpliceBytes } from '../../shared/net/splice.js';

function splitBytes(b: DirectionBytes): SpliceBytes {
  return { aToB: b.clientToServer, bToA: b.serverToClient };
}
import type { UsersStore } from './users-store.js';

export interface StreamAudit {
  stream: number;
  /** The client account. */
  user: string;
  server: string;
  /** ISO times. */
  start: string;
  end: string;
  durationMs: number;
  /** Bytes each way: from the client to the server, and back (one vocabulary in logs, audit, API, metrics). */
  bytesClientToServer: number;
  bytesServerToClient: number;
  /** 'ok' (both sides closed), 'operator' (cut from the admin API), 'shutdown-idle' (idle while the relay stopped) or the first socket error code. */
  reason: string;
  error?: string;
  /** A public stream: its publication and the public client's address and port (for abuse reports). */
  publication?: string;
  source?: string;
}

/** What public ingress does with the core's listen commands (relay/public/public-ingress.ts). */
export interface PublicPorts {
  listen(url: string, port: number): void;
  unlisten(url: string, port: number): void;
}

/** Stream byte counts as they stand: live streams read their sockets now. */
export interface StreamBytes {
  id: number;
  bytesClientToServer: number;
  bytesServerToClient: number;
}

export class RelayRuntime extends EventEmitter {
  readonly core: RelayCore;
  readonly #conns = new Map<ConnId, RelayConnection>();
  #nextConn = 1;
  #activeSplices = new Set<Promise<SpliceResult>>();
  readonly live = new LiveStreams();
  /** Streams the relay cut itself, and why: the audit line says so instead of the socket error. */
  readonly #cutBy = new Map<number, 'operator' | 'shutdown-idle'>();
  readonly #idle: IdleStreams;
  readonly #closedBytes: DirectionBytes = { clientToServer: 0, serverToClient: 0 };
  /** Public streams (public ingress): opened by the fronts, joined by the core. */
  readonly publicLegs: PublicLegs;
  /** Public tcp, https and http connections: channels of one tunnel per publication. */
  readonly publicTunnels: PublicTunnels;
  /** Listens on tcp publications' ports; unset without public ingress. */
  publicPorts: PublicPorts | undefined;

  private readonly log: Logger;
  private readonly users: UsersStore;
  private readonly hasher: PasswordHasher;
  private readonly streamIdleMs: number;

  constructor(opts: {
    log: Logger; limits: RelayLimits; guard: GuardLimits; allowProxyProtocol: boolean; ephemeral: EphemeralKeyRing; identityKey: Buffer;
    users: UsersStore; hasher: PasswordHasher; streamIdleMs: number; cluster?: ClusterIdentity; ingress?: IngressOffer;
  }) {
    super();
    this.#idle = new IdleStreams(this.live);
    this.publicLegs = new PublicLegs({
      nextConn: () => this.#nextConn++,
      dispatch: (event) => this.dispatch(event),
      connection: (id) => this.#conns.get(id),
      started: (stream, info, done) => this.#publicStarted(stream, info, done),
      ended: (end) => this.#publicEnded(end),
    });
    this.publicTunnels = new PublicTunnels({
      log: opts.log,
      openTunnel: (url, endpoints) => this.publicLegs.openTunnel(url, endpoints),
      routeHolds: (url, sid, server) => this.core.publicRouteHolds(url, sid, server),
      nextStreamId: () => this.core.nextStreamId(),
      started: (stream, info, done) => this.#publicStarted(stream, info, done),
      ended: (end) => this.#publicEnded(end),
    });
    ({ log: this.log, users: this.users, hasher: this.hasher, streamIdleMs: this.streamIdleMs } = opts);
    const { ephemeral, identityKey, limits, guard, allowProxyProtocol } = opts;
    const observe = (note: RelayNote): void => void this.emit('note', note);
    this.core = new RelayCore({
      random: randomBytes, ephemeral: (now) => ephemeral.current(now), identityKey, log: this.log, limits, guard, allowProxyProtocol, observe, ...(opts.cluster ? { cluster: opts.cluster } : {}),
      ...(opts.ingress ? { ingress: opts.ingress } : {}),
    });
  }

  accept(socket: Socket, port: PortRole): void {
    const id = this.#nextConn++;
    const log = this.log.child({ conn: id, port });
    log.debug('connection accepted');
    this.#conns.set(id, new RelayConnection(id, port, socket, log, (event) => this.dispatch(event)));
    socket.once('close', () => this.#conns.delete(id));
    const endpoints = socket.remoteAddress && socket.localAddress
      ? { src: socket.remoteAddress, srcPort: socket.remotePort ?? 0, dst: socket.localAddress, dstPort: socket.localPort ?? 0 }
      : undefined;
    this.dispatch({ type: 'opened', conn: id, port, source: socket.remoteAddress ?? 'unknown', ...(endpoints ? { endpoints } : {}) });
  }

  dispatch(event: RelayEvent): void {
    this.run(this.core.handle(event, Date.now()));
  }

  /** Carries out one batch; what it writes to one socket (a Bind and the bytes held for it) leaves in one segment. */
  run(commands: RelayCommand[]): void {
    if (commands.length < 2) {
      for (const cmd of commands) this.#execute(cmd);
      return;
    }
    const corked = new Set<Socket>();
    for (const cmd of commands) {
      const socket = cmd.type === 'send' ? this.#conns.get(cmd.conn)?.socket : undefined;
      if (socket && !corked.has(socket)) {
        socket.cork();
        corked.add(socket);
      }
    }
    for (const cmd of commands) this.#execute(cmd);
    for (const socket of corked) socket.uncork();
  }

  /** Bytes the relay has written to peers' framed connections that they have not read yet (splices excluded). */
  unsentBytes(): number {
    let n = 0;
    for (const conn of this.#conns.values()) n += conn.unsent;
    return n;
  }

  get activeStreams(): number {
    return this.#activeSplices.size;
  }

  /** Resolves when every running splice has ended. */
  async drained(): Promise<void> {
    while (this.#activeSplices.size > 0) await Promise.race(this.#activeSplices);
  }

  snapshot(): RelaySnapshot {
    return relaySnapshot(this.core.state, Date.now());
  }

  /** Stream bytes carried since start, each way, running streams included. */
  totalBytes(): DirectionBytes {
    const live = this.live.totals();
    return { clientToServer: this.#closedBytes.clientToServer + live.clientToServer, serverToClient: this.#closedBytes.serverToClient + live.serverToClient };
  }

  /** Ends a session as an operator asked (admin API); false if there is no such session. */
  disconnect(sid: string, retryAfterSeconds = 1): boolean {
    const { found, commands } = this.core.disconnect(sid, retryAfterSeconds, Date.now());
    this.run(commands);
    return found;
  }

  /** Cuts a running stream (admin API); false if it is not running. */
  closeStream(id: number): boolean {
    if (!this.live.get(id)) return false;
    this.log.info({ stream: id }, 'stream closed by the operator');
    this.#cutBy.set(id, 'operator');
    return this.live.destroy(id);
  }

  /** While stopping: cuts the streams that have carried nothing for `idleMs`; returns how many. */
  cutIdle(idleMs: number): number {
    const idle = this.#idle.sweep(Date.now(), idleMs);
    for (const id of idle) {
      this.#cutBy.set(id, 'shutdown-idle');
      this.live.destroy(id);
    }
    if (idle.length > 0) this.log.info({ streams: idle.length }, 'idle streams closed for the shutdown');
    return idle.length;
  }

  destroyAll(): void {
    for (const conn of this.#conns.values()) conn.socket.destroy();
  }

  /** Carries out the core's cluster commands (relay/cluster); unset on a single relay, whose core sends none. */
  cluster: { execute(cmd: ClusterCommand): void } | undefined;

  #execute(cmd: RelayCommand): void {
    if (cmd.type === 'public-listen') return this.publicPorts?.listen(cmd.url, cmd.port);
    if (cmd.type === 'public-unlisten') return this.publicPorts?.unlisten(cmd.url, cmd.port);
    if (cmd.type === 'splice' && cmd.public) return this.publicLegs.splice({ ...cmd, public: cmd.public });
    if (cmd.type === 'close' && this.publicLegs.owns(cmd.conn)) return this.publicLegs.close(cmd.conn, cmd.reason);
    if (!('conn' in cmd) && cmd.type !== 'splice') return this.cluster?.execute(cmd);
    if (cmd.type === 'verify-ticket' || cmd.type === 'cluster-open') return this.cluster?.execute(cmd);
    const conn = this.#conns.get(cmd.type === 'splice' ? cmd.client : cmd.conn);
    switch (cmd.type) {
      case 'send':
        return conn?.send(cmd.frame);
      case 'hold':
        return conn?.hold();
      case 'pause-reading':
        return conn?.pauseReading(cmd.ms);
      case 'frame-limit':
        return conn?.setFrameLimit(cmd.bytes);
      case 'close':
        return conn?.close();
      case 'verify-login':
        verifyLogin(cmd, this.users, this.hasher).then(
          (verdict) => this.dispatch({ type: 'login-verified', conn: cmd.conn, verdict }),
          (err: unknown) => {
            this.log.error({ err }, 'login verification failed unexpectedly');
            this.dispatch({ type: 'login-verified', conn: cmd.conn, verdict: { passwordOk: false } });
          },
        );
        return;
      case 'splice':
        return this.#splice(cmd, conn);
    }
  }

  #publicStarted(stream: number, info: PublicStreamInfo, done: Promise<void>): void {
    this.live.add({
      id: stream, server: info.server, user: info.user, start: info.start, bytes: () => splitBytes(info.bytes()), sockets: [{ destroy: info.cut }],
      ...(info.busy ? { busy: info.busy } : {}), ...(info.waiting ? { waiting: info.waiting } : {}),
    });
    const finished = done.then(() => ({ aToB: 0, bToA: 0, durationMs: 0 }));
    this.#activeSplices.add(finished);
    void finished.then(() => this.#activeSplices.delete(finished));
  }

  #publicEnded(end: PublicEnd): void {
    this.live.remove(end.stream);
    this.#closedBytes.clientToServer += end.bytes.clientToServer;
    this.#closedBytes.serverToClient += end.bytes.serverToClient;
    const cut = this.#cutBy.get(end.stream);
    this.#cutBy.delete(end.stream);
    const endAt = new Date();
    const audit: StreamAudit = {
      stream: end.stream, user: end.user, server: end.server, start: end.start.toISOString(), end: endAt.toISOString(), durationMs: endAt.getTime() - end.start.getTime(),
      bytesClientToServer: end.bytes.clientToServer, bytesServerToClient: end.bytes.serverToClient, reason: cut ?? end.error ?? 'ok',
      ...(end.error ? { error: end.error } : {}), publication: end.url, source: end.source,
    };
    this.log.info({ audit }, 'stream closed');
    this.emit('stream-closed', audit);
  }

  #splice(cmd: Extract<RelayCommand, { type: 'splice' }>, client: RelayConnection | undefined): void {
    const skeleton = this.#conns.get(cmd.skeleton);
    if (!client || !skeleton) {
      client?.socket.destroy();
      skeleton?.socket.destroy();
      return;
    }
    const start = new Date();
    const opts = { aLeftover: client.detach(), bLeftover: skeleton.detach(), idleMs: this.streamIdleMs };
    this.live.add({
      id: cmd.stream, server: cmd.server, user: cmd.user, start, bytes: spliceCounter(client.socket, skeleton.socket, opts), sockets: [client.socket, skeleton.socket],
      waiting: () => client.socket.writableLength > 0 || skeleton.socket.writableLength > 0,
    });
    const done = splice(client.socket, skeleton.socket, opts);
    this.#activeSplices.add(done);
    void done.then((result) => {
      this.#activeSplices.delete(done);
      this.live.remove(cmd.stream);
      // The splice's side a is the client, b the skeleton (the server).
      this.#closedBytes.clientToServer += result.aToB;
      this.#closedBytes.serverToClient += result.bToA;
      const cut = this.#cutBy.get(cmd.stream);
      this.#cutBy.delete(cmd.stream);
      const audit: StreamAudit = {
        stream: cmd.stream, user: cmd.user, server: cmd.server, start: start.toISOString(), end: new Date(start.getTime() + result.durationMs).toISOString(),
        durationMs: result.durationMs, bytesClientToServer: result.aToB, bytesServerToClient: result.bToA, reason: cut ?? result.error ?? 'ok',
        ...(result.error ? { error: result.error } : {}),
      };
      this.log.info({ audit }, 'stream closed');
      this.emit('stream-closed', audit);
    });
  }
}
