/**
 * The relay's adapter to the cluster: two Redis connections (commands, and a subscriber for dial requests,
 * account changes and penalties), a heartbeat that republishes the local registry, and the cluster commands of the core
 * carried out with their results fed back as events. Redis down: commands that need shared state answer
 * ERR_CLUSTER_UNAVAILABLE at once (no offline queue); the link reconnects with backoff and resyncs.
 */
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { TicketKeys } from '../../shared/crypto/session-ticket.js';
import { codeOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { ClusterCommand, RelayEvent } from '../core/relay-events.js';
import type { UsersOverlay } from '../io/users-store.js';
import type { UserRecord, UsersDb } from '../users/users-file.js';
import { CHANNELS, KEYS } from './cluster-keys.js';
import { parseDialRequest, parsePenaltyNotice, parseSessionEnded } from './dial-request.js';
import { openRemote } from './remote-open.js';
import { TicketService } from './ticket-service.js';
import { RedisRegistry, type SharedEntry } from './redis-registry.js';
import { AccountKeys } from './account-keys.js';
import { UserSync } from './user-sync.js';
import { publishStats, readStats, type RelayStats } from './cluster-stats.js';

export interface ClusterLinkOptions {
  url: string;
  relayId: string;
  /** HOST:PORT of this relay's skeleton port, handed to skeletons that must dial us. */
  advertise: string;
  /** Registry heartbeat; entries live three heartbeats (default 5 s). */
  heartbeatMs: number;
  /** Longest wait between Redis reconnect attempts (default 5 s). */
  retryMaxMs: number;
  /** Lifetime of a dial ticket in seconds (default 60). */
  ticketTtlSeconds: number;
}

export interface ClusterLinkEvents {
  up: [];
  down: [];
  /** Registrations and accounts were published again after (re)connecting. */
  resynced: [];
  /** The registry (and the counters) were published. */
  synced: [];
  /** The disabled accounts changed (from this relay's file or from the cluster). */
  revoked: [string[]];
  /** Another relay's failed login was counted here. */
  penalty: [string];
  /** The shared accounts were loaded (and verified); the accounts this relay now acts on. */
  users: [UsersDb];
}

export class ClusterLink extends EventEmitter<ClusterLinkEvents> {
  readonly #redis: Redis;
  readonly #sub: Redis;
  readonly #registry: RedisRegistry;
  /** Accounts disabled in the accounts this relay acts on, as last dispatched to the core. */
  #revoked = '[]';
  readonly #tickets: TicketService;
  readonly #users: UserSync;
  readonly #heartbeat: NodeJS.Timeout;
  #syncQueued = false;
  /** This relay's dashboard counters, published with each heartbeat (best effort). */
  stats: (() => RelayStats) | undefined;
  /** Called when records from the cluster changed the accounts this relay acts on. */
  usersViewChanged: ((view: UsersDb) => void) | undefined;
  #up = false;
  #closed = false;

  constructor(
    private readonly opts: ClusterLinkOptions,
    tickets: TicketKeys,
    private readonly log: Logger,
    private readonly dispatch: (event: RelayEvent) => void,
    private readonly localEntries: () => SharedEntry[],
    private readonly localPublications: () => { url: string; user: string }[],
    lookupUser: (name: string) => Promise<UserRecord | undefined>,
  ) {
    super();
    const retryStrategy = (times: number): number => Math.min(opts.retryMaxMs, 100 * 2 ** Math.min(times, 8)) * (0.5 + Math.random() / 2);
    const common = { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy, lazyConnect: true, connectTimeout: 2000, commandTimeout: 3000 } as const;
    this.#redis = new Redis(opts.url, common);
    this.#sub = new Redis(opts.url, { ...common, commandTimeout: undefined });
    this.#registry = new RedisRegistry(this.#redis, opts.relayId, opts.heartbeatMs * 3);
    this.#tickets = new TicketService(tickets, opts.relayId, opts.ticketTtlSeconds, lookupUser, dispatch, log);
    this.#users = new UserSync(this.#redis, opts.relayId, new AccountKeys(tickets.privateKey, tickets.publicKey), log, (view) => {
      this.usersChanged(view);
      this.usersViewChanged?.(view);
    });
    for (const conn of [this.#redis, this.#sub]) conn.on('error', (err: Error) => this.log.debug({ code: (err as NodeJS.ErrnoException).code ?? 'redis' }, 'redis connection error'));
    this.#redis.on('ready', () => void this.#resync());
    this.#redis.on('close', () => this.#setDown());
    this.#sub.on('message', (channel: string, message: string) => this.#message(channel, message));
    this.#heartbeat = setInterval(() => this.#queueSync(), opts.heartbeatMs).unref();
  }

  get up(): boolean {
    return this.#up;
  }

  /** Connects; resolves once synced, or once the first attempt failed (the link keeps retrying). */
  async start(): Promise<void> {
    const synced = new Promise<void>((resolve) => {
      this.once('resynced', resolve);
      this.once('down', resolve);
    });
    try {
      await Promise.all([this.#sub.connect(), this.#redis.connect()]);
      await synced;
    } catch (err) {
      this.log.warn({ code: codeOf(err) }, 'cluster store unreachable at start; retrying in the background');
    }
  }

  /** Leaves the cluster: withdraws this relay's registrations (so other relays stop sending it dials) and disconnects. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    if (this.#up) {
      try {
        await this.#registry.sync([]);
        await this.#registry.syncPublications([]);
        await this.#redis.multi().zrem(KEYS.relays, this.opts.relayId).del(KEYS.statsPrefix + this.opts.relayId).exec();
      } catch (err) {
        this.log.debug({ code: codeOf(err) }, 'registrations not withdrawn; they expire with the heartbeat TTL');
      }
    }
    this.#redis.disconnect();
    this.#sub.disconnect();
  }

  /** What the users store lays over its file: the accounts merged from the file and the cluster. */
  get usersOverlay(): UsersOverlay {
    return {
      fileChanged: (file, previous) => {
        this.#users.fileChanged(file, previous, Date.now());
        if (this.#up) void this.#loadUsers();
      },
      view: () => this.#users.book.view(),
    };
  }

  /** `announce`: tell every relay to load too, so a relay that saw newer records repairs what we read. */
  async #loadUsers(announce = false): Promise<boolean> {
    const ok = await this.#users.load(announce);
    if (ok) this.emit('users', this.#users.book.view());
    return ok;
  }

  /**
   * The accounts changed: the disabled ones are revoked (their sessions end, their tickets are refused).
   * A disabled account is a signed record like any change, so this subsumes a separate revocation set.
   */
  usersChanged(db: UsersDb): void {
    const users = db.names().filter((name) => db.get(name)?.disabled === true);
    const key = JSON.stringify(users);
    if (key === this.#revoked) return;
    this.#revoked = key;
    this.dispatch({ type: 'revoked', users });
    this.emit('revoked', users);
  }

  execute(cmd: ClusterCommand): void {
    switch (cmd.type) {
      case 'cluster-sync':
        return this.#queueSync();
      case 'cluster-penalty':
        // Best effort: a penalty lost while Redis is down only weakens S6 to per-relay for that attempt.
        this.#redis.publish(CHANNELS.penalties, JSON.stringify({ from: this.opts.relayId, source: cmd.source, ...(cmd.user !== undefined ? { user: cmd.user } : {}) }))
          .catch((err: unknown) => this.log.debug({ code: codeOf(err) }, 'penalty not shared'));
        return;
      case 'cluster-session-ended':
        // Best effort, like penalties: while Redis is down a ticket stays good at other relays until it expires.
        this.#redis.publish(CHANNELS.sessionsEnded, JSON.stringify({ from: this.opts.relayId, sid: cmd.sid }))
          .catch((err: unknown) => this.log.debug({ code: codeOf(err) }, 'session end not shared'));
        return;
      case 'verify-ticket':
        return this.#tickets.verify(cmd.conn, cmd.ticket);
      case 'mint-ticket':
        return this.#tickets.mint(cmd);
      case 'cluster-open':
        return void openRemote({ registry: this.#registry, redis: this.#redis, origin: this.opts.advertise, dispatch: this.dispatch, log: this.log }, cmd.conn, cmd.server, cmd.dial);
      case 'cluster-claim':
        return void this.#claim(cmd);
      case 'cluster-list':
        this.#registry.list().then(
          (servers) => this.dispatch({ type: 'cluster-listed', sid: cmd.sid, request: cmd.request, servers }),
          () => this.dispatch({ type: 'cluster-listed', sid: cmd.sid, request: cmd.request }),
        );
        return;
    }
  }

  /** Ids and publication urls of one Advertise, claimed cluster-wide; Redis down refuses them all for now. */
  async #claim(cmd: Extract<ClusterCommand, { type: 'cluster-claim' }>): Promise<void> {
    const entries = cmd.servers.map(({ proxy, ...info }) => ({ id: info.id, user: cmd.user, sid: cmd.sid, info, ...(proxy ? { proxy } : {}) }));
    let event: Extract<RelayEvent, { type: 'cluster-claimed' }>;
    try {
      const taken = entries.length > 0 ? await this.#registry.claim(cmd.user, entries) : [];
      const takenUrls = cmd.publications.length > 0 ? await this.#registry.claimPublications(cmd.user, cmd.publications) : [];
      event = {
        type: 'cluster-claimed', sid: cmd.sid, request: cmd.request,
        refused: taken.map((id) => ({ id, code: 'ERR_SERVER_ID_TAKEN' as const })),
        refusedPublications: takenUrls.map((url) => ({ url, code: 'ERR_PUBLICATION_TAKEN' as const })),
      };
    } catch {
      event = {
        type: 'cluster-claimed', sid: cmd.sid, request: cmd.request,
        refused: cmd.servers.map((s) => ({ id: s.id, code: 'ERR_CLUSTER_UNAVAILABLE' as const })),
        refusedPublications: cmd.publications.map((url) => ({ url, code: 'ERR_CLUSTER_UNAVAILABLE' as const })),
      };
    }
    this.dispatch(event);
  }

  #message(channel: string, message: string): void {
    // The message names the relay that wrote; this relay already knows what it wrote itself.
    if (channel === CHANNELS.users) return message === this.opts.relayId ? undefined : void this.#loadUsers();
    if (channel === CHANNELS.penalties) {
      const notice = parsePenaltyNotice(message);
      if (!notice || notice.from === this.opts.relayId) return;
      this.dispatch({ type: 'remote-penalty', source: notice.source, ...(notice.user !== undefined ? { user: notice.user } : {}) });
      this.emit('penalty', notice.source);
      return;
    }
    if (channel === CHANNELS.sessionsEnded) {
      const notice = parseSessionEnded(message);
      if (notice && notice.from !== this.opts.relayId) this.dispatch({ type: 'remote-session-ended', sid: notice.sid });
      return;
    }
    if (channel !== CHANNELS.dial(this.opts.relayId)) return;
    const request = parseDialRequest(message);
    if (!request) return this.log.warn('malformed dial request from the cluster');
    this.dispatch({ type: 'remote-dial', ...request });
  }

  #queueSync(): void {
    if (this.#syncQueued || !this.#up || this.#closed) return;
    this.#syncQueued = true;
    setImmediate(() => {
      this.#syncQueued = false;
      // A relay that has left the cluster must not reappear in it.
      if (!this.#closed) void this.#sync();
    });
  }

  /** This relay's id, whether Redis is reachable, and every live relay's counters (empty when it is not). */
  async view(): Promise<{ relay: string; up: boolean; relays: { relay: string; stats: RelayStats }[] }> {
    try {
      return { relay: this.opts.relayId, up: this.#up, relays: this.#up ? await readStats(this.#redis, Date.now()) : [] };
    } catch {
      return { relay: this.opts.relayId, up: false, relays: [] };
    }
  }

  async #sync(): Promise<boolean> {
    try {
      const conflicts = await this.#registry.sync(this.localEntries());
      if (conflicts.length > 0) this.log.warn({ servers: conflicts }, 'ids held by another account in the cluster; not published');
      const taken = await this.#registry.syncPublications(this.localPublications());
      // Two accounts must never publish one url in the cluster: the one that got it in Redis keeps it.
      if (taken.length > 0) this.dispatch({ type: 'cluster-publications-taken', urls: taken });
      if (this.stats) await publishStats(this.#redis, this.opts.relayId, this.opts.heartbeatMs * 3, this.stats());
      this.emit('synced');
      return true;
    } catch (err) {
      this.log.warn({ code: codeOf(err) }, 'registry sync failed');
      return false;
    }
  }

  async #resync(): Promise<void> {
    if (this.#closed) return;
    this.#up = true;
    this.log.info({ relay: this.opts.relayId }, 'cluster store connected; resyncing');
    this.emit('up');
    // Dial requests for us must be heard before we publish registrations that invite them.
    if (!(await this.#subscribed())) return;
    const ok = (await this.#sync()) && (await this.#loadUsers(true));
    if (ok) this.emit('resynced');
  }

  async #subscribed(): Promise<boolean> {
    if (this.#sub.status !== 'ready') await new Promise<void>((resolve) => this.#sub.once('ready', () => resolve()));
    try {
      await this.#sub.subscribe(CHANNELS.dial(this.opts.relayId), CHANNELS.penalties, CHANNELS.users, CHANNELS.sessionsEnded);
      return true;
    } catch (err) {
      this.log.warn({ code: codeOf(err) }, 'cluster subscription failed; will retry on reconnect');
      return false;
    }
  }

  #setDown(): void {
    if (!this.#up) return;
    this.#up = false;
    if (!this.#closed) this.log.warn({ relay: this.opts.relayId }, 'cluster store lost; local opens only until it returns');
    this.emit('down');
  }
}
