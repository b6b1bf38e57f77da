/**
 * Public connections as channels of public tunnels: per publication, one end-to-end leg to the home
 * server (public-legs.ts `openTunnel`) carries every public connection as a channel, so a connection
 * costs an open frame and the home server's connect, not a data connection, a Bind and a handshake of
 * its own (docs/PROTOCOL.md, *Public ingress*). The tunnel is opened on the first connection, shared
 * while the publication still routes to the same session and server, retired (no new channels, ended
 * once its last channel ends) when that changes (a takeover, a withdrawal, the relay stopping), and
 * ended after `idleMs` without channels.
 *
 * Each channel is still a stream to the operator: an id, a line in the admin API, a place in the drain
 * and an audit line with its publication and source, as a leg of its own had.
 */
import { BurrowError, codeOf, type ErrorCode } from '../../shared/errors.js';
import type { ClientEndpoints } from '../../shared/protocol/messages.js';
import { encodeOpenEndpoints } from '../../shared/tunnel/open-endpoints.js';
import { resetLocal, type ChannelLocal } from '../../shared/tunnel/tunnel-channel.js';
import { GrowthBudget, PUBLIC_GROWTH_BUDGET, PUBLIC_SOURCE_GROWTH_BUDGET, PUBLIC_TUNNEL_WINDOWS, type ChannelWindows } from '../../shared/tunnel/channel-credit.js';
import { sourceKey } from '../core/source-guard.js';
import type { Logger } from '../../shared/log.js';
import type { DirectionBytes } from './live-streams.js';
import type { PublicEnd, TunnelLeg } from './public-legs.js';

/** A running public stream, for the live streams and the drain. */
export interface PublicStreamInfo {
  server: string;
  user: string;
  start: Date;
  bytes: () => DirectionBytes;
  cut: () => void;
  /** Work is under way although no byte moves (an HTTP answer awaited): not idle. */
  busy?: () => boolean;
  /** Bytes wait on a slow reader, or the public client spoke last (an answer owed): patient, not idle. */
  waiting?: () => boolean;
}

/** How long a public tunnel without channels is kept for the next connection. */
export const PUBLIC_TUNNEL_IDLE_MS = 5 * 60_000;

export interface PublicTunnelsHost {
  log: Logger;
  openTunnel(url: string, endpoints: ClientEndpoints): Promise<TunnelLeg>;
  /** The publication still routes to this session and server, and the relay is not stopping. */
  routeHolds(url: string, sid: string, server: string): boolean;
  nextStreamId(): number;
  /** A public connection is running: register it with the live streams and the drain. */
  started(stream: number, info: PublicStreamInfo, done: Promise<void>): void;
  ended(end: PublicEnd): void;
}

/** A public connection's way to its home server, ready to carry. */
export interface PublicChannel {
  /**
   * Carries `local` through to the home server and back until both sides are done; `bytes` are the
   * front's counts for the admin API and the audit line; `busy` (the HTTP front) says an answer is under
   * way, so a stopping relay does not cut the stream as idle. Resolves with the error, if it ended with one.
   */
  carry(local: ChannelLocal, bytes: () => DirectionBytes, busy?: () => boolean): Promise<{ error?: ErrorCode }>;
}

/** One public source's share of the growth budget, while it has channels. */
interface PublicSource {
  key: string;
  windows: ChannelWindows;
  channels: number;
}

interface Entry {
  leg?: TunnelLeg;
  opening?: Promise<TunnelLeg>;
  idleTimer?: NodeJS.Timeout;
}

export class PublicTunnels {
  readonly #byUrl = new Map<string, Entry>();
  /**
   * Channel windows grow from a budget per public source (an IPv4 address, an IPv6 /64), each drawing
   * on one for the whole relay: public clients that read fast and then stop can pin only that much, and
   * a few sources cannot pin all of it.
   */
  readonly #budget = new GrowthBudget(PUBLIC_GROWTH_BUDGET);
  readonly #sources = new Map<string, PublicSource>();

  constructor(private readonly host: PublicTunnelsHost, private readonly idleMs = PUBLIC_TUNNEL_IDLE_MS) {}

  /** A channel of `url`'s tunnel, opening the tunnel first if there is none; rejects as a leg would (ERR_SERVER_UNREACHABLE...). */
  async open(url: string, endpoints: ClientEndpoints): Promise<PublicChannel> {
    const leg = await this.#tunnelFor(url, endpoints);
    return { carry: (local, bytes, busy) => this.#carry(leg, endpoints, local, bytes, busy) };
  }

  /** The relay is stopping: idle tunnels end now, busy ones once their last channel ends (the drain waits for those channels). */
  retireAll(): void {
    for (const entry of this.#byUrl.values()) if (entry.leg) this.#retire(entry, entry.leg);
  }

  /** Tunnels open now (for tests and diagnostics). */
  get size(): number {
    return [...this.#byUrl.values()].filter((e) => e.leg).length;
  }

  #tunnelFor(url: string, endpoints: ClientEndpoints): Promise<TunnelLeg> {
    let entry = this.#byUrl.get(url);
    if (!entry) {
      entry = {};
      this.#byUrl.set(url, entry);
    }
    const leg = entry.leg;
    if (leg) {
      if (leg.tunnel.usable && this.host.routeHolds(url, leg.sid, leg.server)) return Promise.resolve(leg);
      this.#retire(entry, leg);
    }
    entry.opening ??= this.host.openTunnel(url, endpoints).then(
      (opened) => {
        entry.opening = undefined;
        this.#adopt(url, entry, opened);
        return opened;
      },
      (err: unknown) => {
        entry.opening = undefined;
        if (!entry.leg) this.#byUrl.delete(url);
        throw err;
      },
    );
    return entry.opening;
  }

  #adopt(url: string, entry: Entry, leg: TunnelLeg): void {
    entry.leg = leg;
    const { tunnel } = leg;
    tunnel.once('close', (code) => {
      // Every public connection of the publication went with it: worth an operator's attention.
      if (code) this.host.log.warn({ publication: url, server: leg.server, code }, 'public tunnel failed; its connections were cut');
      clearTimeout(entry.idleTimer);
      if (entry.leg === leg) entry.leg = undefined;
      if (!entry.leg && !entry.opening && this.#byUrl.get(url) === entry) this.#byUrl.delete(url);
    });
    tunnel.on('idle', () => {
      clearTimeout(entry.idleTimer);
      entry.idleTimer = setTimeout(() => {
        if (tunnel.channelCount === 0) tunnel.end();
      }, this.idleMs).unref();
    });
  }

  /** No new channel on this tunnel: it ends once its last channel has. */
  #retire(entry: Entry, leg: TunnelLeg): void {
    entry.leg = undefined;
    clearTimeout(entry.idleTimer);
    const { tunnel } = leg;
    if (tunnel.channelCount === 0) tunnel.end();
    else tunnel.once('idle', () => tunnel.end());
  }

  async #carry(leg: TunnelLeg, endpoints: ClientEndpoints, local: ChannelLocal, bytes: () => DirectionBytes, busy?: () => boolean): Promise<{ error?: ErrorCode }> {
    const entry = this.#byUrl.get(leg.url);
    if (entry?.leg === leg) clearTimeout(entry.idleTimer);
    const source = this.#source(endpoints.src);
    let channel;
    try {
      channel = leg.tunnel.openChannel(local, leg.proxy ? encodeOpenEndpoints(endpoints) : undefined, source.windows);
    } catch (err) {
      this.#leave(source);
      // The tunnel went away between open() and now: this connection fails as an unreachable leg would.
      local.destroy();
      throw err instanceof BurrowError ? err : new BurrowError(codeOf(err));
    }
    const stream = this.host.nextStreamId();
    const start = new Date();
    let settle: () => void = () => undefined;
    const done = new Promise<void>((resolve) => { settle = resolve; });
    // Cut (by the operator, or as idle when the relay stops): a reset, so the public client sees a cut.
    const cut = (): void => resetLocal(local);
    const waiting = (): boolean => channel.blocked || channel.halfClosed || channel.lastFromLocal === true;
    this.host.started(stream, { server: leg.server, user: leg.user, start, bytes, cut, waiting, ...(busy ? { busy } : {}) }, done);
    const result = await channel.settled;
    this.#leave(source);
    const error = result.code;
    this.host.ended({
      stream, url: leg.url, source: `${endpoints.src}:${endpoints.srcPort}`, server: leg.server, user: leg.user, start, bytes: bytes(),
      ...(error ? { error } : {}),
    });
    settle();
    return error ? { error } : {};
  }

  #source(address: string): PublicSource {
    const key = sourceKey(address);
    let source = this.#sources.get(key);
    if (!source) {
      source = { key, windows: { ...PUBLIC_TUNNEL_WINDOWS, budget: new GrowthBudget(PUBLIC_SOURCE_GROWTH_BUDGET, this.#budget) }, channels: 0 };
      this.#sources.set(key, source);
    }
    source.channels++;
    return source;
  }

  /** A channel of `source` is over (its credit gave its growth back already). */
  #leave(source: PublicSource): void {
    if (--source.channels === 0) this.#sources.delete(source.key);
  }
}
