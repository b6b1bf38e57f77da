/**
 * Runs the skeleton core against real sockets: logs in, keeps the control channel, opens pool and dial
 * data connections, serves bound streams, reconnects after failures with the core's backoff.
 */
import { LogLimiter } from '../../shared/log-limiter.js';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { BurrowError, codeOf, ERROR_CODES, type ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { decodeBody } from '../../shared/protocol/codec.js';
import { parseRelayHandshake } from '../../shared/protocol/parse.js';
import { ControlChannel } from '../../shared/peer/control-channel.js';
import { attachData } from '../../shared/peer/data-connection.js';
import { login, type Credentials, type PeerSession } from '../../shared/peer/peer-login.js';
import { parseHostPort, type RelayTarget } from '../../shared/peer/relay-address.js';
import { SkeletonCore, type SkeletonCommand, type SkeletonEvent } from '../core/skeleton-core.js';
import { serveStream } from './serve-stream.js';
import { GrowthBudget, PUBLIC_TUNNEL_WINDOWS, SKELETON_PUBLIC_GROWTH_BUDGET, type ChannelWindows } from '../../shared/tunnel/channel-credit.js';
import type { UdpFlows } from './udp-flows.js';
import { Semaphore } from '../../shared/semaphore.js';
import type { RekeyOptions } from '../../shared/tunnel/tunnel-frame-writer.js';
import { serverInfo, type SkeletonServer } from './skeleton-server.js';
import { SkeletonDrain } from './skeleton-drain.js';

export interface AdvertiseResult {
  accepted: string[];
  rejected: { id: string; code: ErrorCode }[];
  /** Publication urls the relay made live, and those it refused (each alone) with why. */
  published: string[];
  unpublished: { url: string; code: ErrorCode }[];
}

export interface SkeletonRuntimeEvents {
  advertised: [AdvertiseResult];
  /** The relay withdrew publications after accepting them (grant revoked, port unavailable). */
  unpublished: [{ url: string; code: ErrorCode }[]];
  /** A session that was logged in was lost (failed login attempts are retried without a word here). */
  disconnected: [ErrorCode];
  /** Reconnecting cannot help (the account or the relay key was refused): the runtime has stopped. */
  fatal: [BurrowError];
}

export class SkeletonRuntime extends EventEmitter<SkeletonRuntimeEvents> {
  readonly core: SkeletonCore;
  readonly #servers = new Map<string, SkeletonServer>();
  readonly #sockets = new Set<Socket>();
  /** Data connections waiting for a Bind, with the session generation they belong to. */
  readonly #idle = new Map<Socket, number>();
  /** Data connections the relay asked for (Dial): a stream waits for each, so leaving does not close them. */
  readonly #dials = new WeakSet<Socket>();
  #session: PeerSession | undefined;
  #control: ControlChannel | undefined;
  #generation = 0;
  #stopped = false;
  /** Leaving (a graceful stop): no new data connection, and the relay was told we serve nothing. */
  #leaving = false;
  #lastError: unknown;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #readvertiseTimer: NodeJS.Timeout | undefined;
  /**
   * Data connections greeting the relay at once: a burst of Dials (a public page with 200 images) would
   * otherwise open as many unauthenticated connections from this address at once, and the relay caps
   * those per source (--max-unauth-per-source, 32). The rest wait their turn, milliseconds each.
   */
  readonly #attaching = new Semaphore(16);
  /** One budget for the 'stream refused' lines of all this skeleton's streams (shared/log-limiter.ts). */
  readonly #refusals = new LogLimiter();
  /** Public tunnels' channel windows: their growth from one budget for the whole skeleton (the public can open them). */
  readonly #publicWindows: ChannelWindows = { ...PUBLIC_TUNNEL_WINDOWS, budget: new GrowthBudget(SKELETON_PUBLIC_GROWTH_BUDGET) };
  readonly #tick: NodeJS.Timeout;

  constructor(
    private readonly relay: RelayTarget,
    private readonly creds: Credentials,
    servers: SkeletonServer[],
    private readonly log: Logger,
    opts: {
      pool: number; poolMax: number; targetTimeoutMs: number; instance: string; udp: UdpFlows; rekey?: RekeyOptions; onRetry?: (err: BurrowError) => void;
      /** The skeleton's drain (shared by the runtimes of a cluster's relays); a runtime of its own otherwise. */
      drain?: SkeletonDrain;
    },
  ) {
    super();
    this.onRetry = opts.onRetry ?? (() => undefined);
    for (const s of servers) this.#servers.set(s.id, s);
    this.core = new SkeletonCore({ pool: opts.pool, poolMax: opts.poolMax });
    this.targetTimeoutMs = opts.targetTimeoutMs;
    this.udp = opts.udp;
    this.instance = opts.instance;
    this.rekey = opts.rekey;
    this.drain = opts.drain ?? new SkeletonDrain();
    this.#tick = setInterval(() => this.#dispatch({ type: 'tick' }), 1000).unref();
  }

  readonly targetTimeoutMs: number;
  /** The UDP flows of the whole skeleton (shared by the runtimes of a cluster's relays). */
  readonly udp: UdpFlows;
  /**
   * This skeleton's token in every Advertise, the same across its sessions: a later session of ours takes
   * our ids over from a stale one, while another skeleton of the account serves them beside us.
   */
  readonly instance: string;
  /** When streams and tunnels replace their sending key (default every 10 minutes and every GiB). */
  readonly rekey: RekeyOptions | undefined;
  /** Told of each failed attempt to reach the relay that will be retried. */
  readonly onRetry: (err: BurrowError) => void;
  /** What this skeleton is serving, for a graceful stop. */
  readonly drain: SkeletonDrain;

  /** Starts logging in (the first attempt at once, then as the core's backoff says) until stop(). */
  start(): void {
    this.#dispatch({ type: 'start' });
  }

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
      if (msg.t === 'withdrawn' && msg.servers.length > 0) {
        this.log.warn({ servers: msg.servers, code: msg.code }, 'relay withdrew servers: another session of this account took them over; will advertise them again once free');
      }
      if (msg.t === 'withdrawn' && msg.publications) {
        this.log.error({ publications: msg.publications, code: msg.code }, 'relay withdrew publications');
        this.emit('unpublished', msg.publications.map((url) => ({ url, code: msg.code })));
      }
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
      this.#dropIdle(generation);
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

  /**
   * The first step of a graceful stop: the relay is told this skeleton serves nothing any more (an
   * Advertise of no server and no publication), so it routes no new stream or public connection here
   * while what runs finishes; then idle pool connections are closed and no new one is opened. Resolves
   * once the relay answered (or after `timeoutMs`, or at once without a relay) and the pool is closed.
   */
  async leave(timeoutMs = 2000): Promise<void> {
    if (this.#leaving || this.#stopped) return;
    this.#leaving = true;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#readvertiseTimer);
    const control = this.#control;
    if (control && !control.closed) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
      const told = control.request((id) => ({ t: 'advertise', id, instance: this.instance, servers: [] })).then(
        () => this.log.info('told the relay this skeleton is leaving: no new streams'),
        (err: unknown) => this.log.debug({ code: codeOf(err) }, 'leave: the relay did not answer'),
      );
      await Promise.race([told, late]);
      clearTimeout(timer);
    }
    // Only now: until the relay had the word it could still bind a stream to an idle pool connection.
    for (const socket of this.#idle.keys()) if (!this.#dials.has(socket)) socket.destroy();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#tick);
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#readvertiseTimer);
    this.#control?.close();
    for (const s of this.#sockets) s.destroy();
  }

  /** A session's control channel is gone: its idle data connections will never be bound. */
  #dropIdle(generation: number): void {
    for (const [socket, gen] of this.#idle) if (gen === generation) socket.destroy();
  }

  #dispatch(event: SkeletonEvent): void {
    if (this.#stopped) return;
    for (const cmd of this.core.handle(event, Date.now())) {
      // Leaving: only a Dial is still answered (a stream the relay routed here before it had our word
      // waits for it); no pool connection, no advertise, no reconnect.
      if (this.#leaving && !(cmd.type === 'open-data' && cmd.purpose === 'dial')) continue;
      this.#execute(cmd);
    }
  }

  #execute(cmd: SkeletonCommand): void {
    switch (cmd.type) {
      case 'advertise':
        return void this.#advertise();
      case 'open-data':
        return void this.#openData(cmd);
      case 'reconnect':
        if (cmd.afterMs > 0) this.log.info({ code: cmd.code, retryInMs: cmd.afterMs }, 'reconnecting to relay');
        clearTimeout(this.#reconnectTimer);
        // Unref'd: a library caller's process may end while we wait; the CLI keeps its own handle.
        this.#reconnectTimer = setTimeout(() => {
          this.connect().catch((err: unknown) => {
            const code = codeOf(err);
            this.#lastError = err;
            this.log.warn({ code }, 'relay connection failed');
            if (ERROR_CODES[code].retry !== 'stop') this.onRetry(err instanceof BurrowError ? err : new BurrowError(code));
            this.#dispatch({ type: 'disconnected', code });
          });
        }, cmd.afterMs).unref();
        return;
      case 'fatal': {
        // Retrying would only earn this address penalties at the relay.
        // A key mismatch is this skeleton refusing the relay (after a key rotation, say), not the reverse.
        this.log.error({ code: cmd.code }, cmd.code === 'ERR_RELAY_KEY_MISMATCH' ? 'the relay did not prove the pinned key; refused it, not retrying' : 'relay refused this skeleton; not retrying');
        const err = this.#lastError instanceof BurrowError && this.#lastError.code === cmd.code ? this.#lastError : new BurrowError(cmd.code);
        this.stop();
        this.emit('fatal', err);
        return;
      }
    }
  }

  async #advertise(): Promise<void> {
    const control = this.#control;
    if (!control) return;
    try {
      // Displaced by another session of our instance: ask for those ids back only once it has let go.
      const displaced = this.core.withdrawn.length > 0;
      const servers = [...this.#servers.values()];
      const publish = servers.flatMap((s) => s.publications ?? []);
      const reply = await control.request((id) => ({
        t: 'advertise', id, instance: this.instance, servers: servers.map(serverInfo), ...(displaced ? { yield: true } : {}), ...(publish.length > 0 ? { publish } : {}),
      }));
      if (reply.t !== 'advertised') throw new BurrowError('ERR_PROTOCOL', `expected advertised, got ${reply.t}`);
      const withdrawn = new Set(this.core.withdrawn);
      const waiting = reply.rejected.filter((r) => r.code === 'ERR_SERVER_ID_TAKEN' && withdrawn.has(r.id)).map((r) => r.id);
      if (waiting.length > 0) this.log.debug({ servers: waiting }, 'still displaced: another session of this skeleton holds these servers');
      for (const r of reply.rejected) if (!waiting.includes(r.id)) this.log.error({ server: r.id, code: r.code }, 'relay refused to list server');
      // A cluster relay that cannot reach its shared store refuses for now, not for good: ask again later.
      if ([...reply.rejected, ...(reply.unpublished ?? [])].some((r) => r.code === 'ERR_CLUSTER_UNAVAILABLE')) {
        clearTimeout(this.#readvertiseTimer);
        this.#readvertiseTimer = setTimeout(() => this.#dispatch({ type: 'servers-changed' }), 1000 + Math.floor(Math.random() * 2000));
      }
      if (reply.accepted.length > 0) this.log.info({ servers: reply.accepted }, 'servers advertised');
      for (const u of reply.unpublished ?? []) this.log.error({ publication: u.url, code: u.code }, 'relay refused publication');
      if ((reply.published ?? []).length > 0) this.log.info({ publications: reply.published }, 'publications live');
      this.#dispatch({ type: 'advertised', accepted: reply.accepted });
      this.emit('advertised', { accepted: reply.accepted, rejected: reply.rejected, published: reply.published ?? [], unpublished: reply.unpublished ?? [] });
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
      const claim = cmd.purpose === 'pool' ? { purpose: 'pool' as const } : { purpose: 'dial' as const, dial: cmd.dial, ...(cmd.via ? { ticket: cmd.via.ticket } : {}) };
      // A cluster dial goes to the relay that asked, which must prove the same pinned key.
      const target = cmd.purpose === 'dial' && cmd.via ? { ...parseHostPort(cmd.via.relay, 'dial relay'), fingerprint: this.relay.fingerprint } : this.relay;
      // Tracked from the moment the socket exists, so a session that dies mid-attach takes it along.
      const release = await this.#attaching.acquire();
      const greeting = await attachData(target, 'skeleton', session, claim, undefined, (s) => {
        this.#sockets.add(s);
        this.#idle.set(s, generation);
        if (!isPool) this.#dials.add(s);
        s.once('close', () => {
          this.#sockets.delete(s);
          this.#idle.delete(s);
        });
        if (generation !== this.#generation || this.#control?.closed || (isPool && this.#leaving)) s.destroy();
      }).finally(release);
      socket = greeting.socket;
      const msg = parseRelayHandshake(decodeBody(await greeting.channel.next(0)));
      this.#idle.delete(socket);
      if (msg.t === 'error') throw new BurrowError(msg.code);
      if (msg.t !== 'bind') throw new BurrowError('ERR_PROTOCOL', `expected bind, got ${msg.t}`);
      used = true;
      if (isPool && generation === this.#generation) this.#dispatch({ type: 'pool-used' });
      const server = this.#servers.get(msg.server);
      if (!server) throw new BurrowError('ERR_UNKNOWN_SERVER', 'relay bound a server we do not serve');
      // Only a server we publish takes public streams: the relay cannot reach the others without their secret.
      if (msg.public && (server.publications ?? []).length === 0) throw new BurrowError('ERR_UNKNOWN_SERVER', 'relay bound a public stream to a server we do not publish');
      const served = serveStream(socket, greeting.channel.detach(), server, this.log, {
        ...(msg.public ? { publicLeg: session.keys.publicLeg } : {}),
        targetTimeoutMs: this.targetTimeoutMs, ...(msg.proxy ? { client: msg.proxy } : {}), ...(this.rekey ? { rekey: this.rekey } : {}), refusals: this.#refusals, udp: this.udp,
        publicWindows: this.#publicWindows, drain: this.drain,
      });
      this.drain.serving(served);
      await served;
    } catch (err) {
      socket?.destroy();
      if (isPool && !used && generation === this.#generation) this.#dispatch({ type: 'pool-lost' });
      if (!this.#stopped) this.log.debug({ code: codeOf(err), purpose: cmd.purpose }, 'data connection ended');
    }
  }
}
