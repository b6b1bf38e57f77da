/**
 * Runs the skeleton core against real sockets: logs in, keeps the control channel, opens pool and dial
 * data connections, serves bound streams, reconnects after failures with the core's backoff.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { BurrowError, codeOf, type ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { decodeBody } from '../../shared/protocol/codec.js';
import { parseRelayHandshake } from '../../shared/protocol/parse.js';
import { ControlChannel } from '../../shared/peer/control-channel.js';
import { attachData } from '../../shared/peer/data-connection.js';
import { login, type Credentials, type PeerSession } from '../../shared/peer/peer-login.js';
import type { RelayTarget } from '../../shared/peer/relay-address.js';
import { SkeletonCore, type SkeletonCommand, type SkeletonEvent } from '../core/skeleton-core.js';
import { serveStream } from './serve-stream.js';
import { serverInfo, type SkeletonServer } from './skeleton-server.js';

export interface AdvertiseResult {
  accepted: string[];
  rejected: { id: string; code: ErrorCode }[];
}

export interface SkeletonRuntimeEvents {
  advertised: [AdvertiseResult];
  disconnected: [ErrorCode];
}

export class SkeletonRuntime extends EventEmitter<SkeletonRuntimeEvents> {
  readonly core: SkeletonCore;
  readonly #servers = new Map<string, SkeletonServer>();
  readonly #sockets = new Set<Socket>();
  #session: PeerSession | undefined;
  #control: ControlChannel | undefined;
  #generation = 0;
  #stopped = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  readonly #tick: NodeJS.Timeout;

  constructor(
    private readonly relay: RelayTarget,
    private readonly creds: Credentials,
    servers: SkeletonServer[],
    private readonly log: Logger,
    opts: { pool: number; poolMax: number; targetTimeoutMs: number },
  ) {
    super();
    for (const s of servers) this.#servers.set(s.id, s);
    this.core = new SkeletonCore({ pool: opts.pool, poolMax: opts.poolMax });
    this.targetTimeoutMs = opts.targetTimeoutMs;
    this.#tick = setInterval(() => this.#dispatch({ type: 'tick' }), 1000).unref();
  }

  readonly targetTimeoutMs: number;

  /** One login attempt; on success the control channel runs until it closes. */
  async connect(): Promise<void> {
    const session = await login(this.relay, 'skeleton', this.creds);
    if (this.#stopped) {
      session.channel.socket.destroy();
      return;
    }
    const generation = ++this.#generation;
    const control = new ControlChannel(session);
    this.#session = session;
    this.#control = control;
    control.on('message', (msg) => {
      if (msg.t === 'goodbye') {
        this.log.info({ retryAfter: msg.retryAfter }, 'relay said goodbye; will reconnect');
        // A planned restart, not a failure: this generation's close is not reported as a disconnect.
        this.#generation++;
        control.close(new BurrowError('ERR_SHUTTING_DOWN'));
        this.#dispatch({ type: 'goodbye', retryAfterMs: msg.retryAfter * 1000 });
      } else {
        this.#dispatch({ type: 'control', msg });
      }
    });
    control.on('close', (reason) => {
      if (generation !== this.#generation || this.#stopped) return;
      this.log.warn({ code: reason.code }, 'control channel closed');
      this.emit('disconnected', reason.code);
      this.#dispatch({ type: 'disconnected', code: reason.code });
    });
    this.log.info({ relay: `${this.relay.host}:${this.relay.port}`, session: session.sid }, 'logged in to relay');
    this.#dispatch({ type: 'connected' });
  }

  /** Replaces the servers this skeleton fronts and advertises the new list (hot reload). */
  setServers(servers: SkeletonServer[]): void {
    this.#servers.clear();
    for (const s of servers) this.#servers.set(s.id, s);
    this.#dispatch({ type: 'servers-changed' });
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#tick);
    clearTimeout(this.#reconnectTimer);
    this.#control?.close();
    for (const s of this.#sockets) s.destroy();
  }

  #dispatch(event: SkeletonEvent): void {
    if (this.#stopped) return;
    for (const cmd of this.core.handle(event, Date.now())) this.#execute(cmd);
  }

  #execute(cmd: SkeletonCommand): void {
    switch (cmd.type) {
      case 'advertise':
        return void this.#advertise();
      case 'open-data':
        return void this.#openData(cmd);
      case 'reconnect':
        this.log.info({ code: cmd.code, retryInMs: cmd.afterMs }, 'reconnecting to relay');
        this.#reconnectTimer = setTimeout(() => {
          this.connect().catch((err: unknown) => {
            this.log.warn({ code: codeOf(err) }, 'relay connection failed');
            this.#dispatch({ type: 'disconnected', code: codeOf(err) });
          });
        }, cmd.afterMs);
        return;
    }
  }

  async #advertise(): Promise<void> {
    const control = this.#control;
    if (!control) return;
    try {
      const reply = await control.request((id) => ({ t: 'advertise', id, servers: [...this.#servers.values()].map(serverInfo) }));
      if (reply.t !== 'advertised') throw new BurrowError('ERR_PROTOCOL', `expected advertised, got ${reply.t}`);
      for (const r of reply.rejected) this.log.error({ server: r.id, code: r.code }, 'relay refused to list server');
      if (reply.accepted.length > 0) this.log.info({ servers: reply.accepted }, 'servers advertised');
      this.emit('advertised', { accepted: reply.accepted, rejected: reply.rejected });
    } catch (err) {
      this.log.warn({ code: codeOf(err) }, 'advertise failed');
      control.close(err instanceof BurrowError ? err : new BurrowError('ERR_INTERNAL'));
    }
  }

  async #openData(cmd: Extract<SkeletonCommand, { type: 'open-data' }>): Promise<void> {
    const session = this.#session;
    const generation = this.#generation;
    if (!session) return;
    const isPool = cmd.purpose === 'pool';
    let socket: Socket | undefined;
    let used = false;
    try {
      const claim = cmd.purpose === 'pool' ? { purpose: 'pool' as const } : { purpose: 'dial' as const, dial: cmd.dial };
      const greeting = await attachData(this.relay, 'skeleton', session, claim);
      socket = greeting.socket;
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(greeting.socket));
      const msg = parseRelayHandshake(decodeBody(await greeting.channel.next(0)));
      if (msg.t === 'error') throw new BurrowError(msg.code);
      if (msg.t !== 'bind') throw new BurrowError('ERR_PROTOCOL', `expected bind, got ${msg.t}`);
      used = true;
      if (isPool && generation === this.#generation) this.#dispatch({ type: 'pool-used' });
      const server = this.#servers.get(msg.server);
      if (!server) throw new BurrowError('ERR_UNKNOWN_SERVER', 'relay bound a server we do not serve');
      await serveStream(socket, greeting.channel.detach(), server, this.log, this.targetTimeoutMs, msg.proxy);
    } catch (err) {
      socket?.destroy();
      if (isPool && !used && generation === this.#generation) this.#dispatch({ type: 'pool-lost' });
      if (!this.#stopped) this.log.debug({ code: codeOf(err), purpose: cmd.purpose }, 'data connection ended');
    }
  }
}
