/**
 * The relay's public side (a DMZ gateway): a listener for each live tcp or udp publication, opened when the
 * core says it became live and closed when nobody publishes it any more, and the shared HTTP and HTTPS
 * ports. Every public connection passes the front door first.
 */
import { EventEmitter, once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from '../../shared/log.js';
import { bindOn, listenOn } from '../../shared/net/listen-on.js';
import type { RelayRuntime } from '../io/relay-runtime.js';
import { passThrough } from './tcp-front.js';
import { createUdpFront, type UdpFront } from './udp-front.js';
import { guardSocket } from './public-socket.js';
import type { FrontDoorLimits } from './front-door.js';
import { PublicDoor } from './public-door.js';
import { PublicStats } from './public-stats.js';
import { serveHttps } from './sni-front.js';
import type { OwnName } from './own-name.js';
import { startHttpFront } from './http-listener.js';

export interface IngressOptions {
  /** Address the public listeners bind. */
  host: string;
  httpPort?: number;
  httpsPort?: number;
  /** A request head or ClientHello not complete within this is cut (slowloris); default 10 s. */
  headTimeoutMs?: number;
  /** Relay-wide front-door caps (per source over all public ports, all public connections). */
  limits?: Partial<FrontDoorLimits>;
  /** One-port mode: the relay's own name on the HTTPS port reaches its WebSocket endpoint. */
  own?: OwnName;
  /** A udp publication's flow ends after this long without a datagram either way (default 120 s). */
  udpIdleMs?: number;
  /** The clock udp flows' idle times are measured with (tests advance one by hand and sweep). */
  now?: () => number;
}

export interface PublicIngress {
  /** Where the shared ports listen (absent when off), and the tcp and udp publications' ports now open (by url). */
  addresses(): { http?: AddressInfo; https?: AddressInfo; tcp: Record<string, AddressInfo> };
  /** A udp publication's front while its port is open: its flows, and a sweep for tests with their own clock. */
  udp(url: string): UdpFront | undefined;
  /** Resolves once a tcp publication's port listens (at once if it does); rejects if it cannot (ERR_LISTEN). */
  listening(url: string): Promise<AddressInfo>;
  /** Resolves once a tcp publication's port is closed (at once if it is not open). */
  closed(url: string): Promise<void>;
  /** Per-publication counters: connections, bytes, refusals by reason. */
  stats: PublicStats;
  /** Stops listening; HTTP connections drain for up to `drainMs` (cut at once without). */
  close(drainMs?: number): Promise<void>;
}


export async function startIngress(runtime: RelayRuntime, opts: IngressOptions, log: Logger): Promise<PublicIngress> {
  const tcp = new Map<string, Server>();
  const udp = new Map<string, UdpFront>();
  const bound = new Map<string, AddressInfo>();
  const events = new EventEmitter();
  const stats = new PublicStats();
  const door = new PublicDoor(stats, log, opts.limits);
  const publications = runtime.core.state.publications;
  const front = {
    open: runtime.publicLegs.open.bind(runtime.publicLegs), channel: runtime.publicTunnels.open.bind(runtime.publicTunnels), stats, log, door, headTimeoutMs: opts.headTimeoutMs ?? 10_000,
  };
  const serveTcp = (url: string) => (socket: Socket): void => {
    if (!guardSocket(socket, log)) return;
    const source = socket.remoteAddress!;
    const arrival = door.arrive(source, url, true);
    if (!arrival.ok) return void socket.destroy();
    const pub = publications.get(url);
    const admission = pub ? door.route(source, pub) : undefined;
    if (!admission?.ok) {
      arrival.release();
      return void socket.destroy();
    }
    void passThrough(socket, url, front).finally(() => {
      admission.release();
      arrival.release();
    });
  };
  const shared: { http?: AddressInfo; https?: AddressInfo } = {};
  const servers: Server[] = [];
  const closers: ((drainMs?: number) => Promise<void>)[] = [];
  if (opts.httpPort !== undefined) {
    const http = startHttpFront({ ...front, publications, channels: front.channel });
    servers.push(http.server);
    closers.push((drainMs) => http.front.close(drainMs));
    stats.addSource('http', http.refusals);
    shared.http = await listenOn(http.server, opts.httpPort, opts.host, 'http port');
  }
  if (opts.httpsPort !== undefined) {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      if (!guardSocket(socket, log)) return;
      serveHttps(socket, { ...front, resolve: (host) => publications.resolveHost('https', host), ...(opts.own ? { own: opts.own } : {}) });
    });
    servers.push(server);
    shared.https = await listenOn(server, opts.httpsPort, opts.host, 'https port');
  }
  /**
   * Settles a public port's bind: bound, it is announced (unless the url was unlistened meanwhile: then
   * it closes); failed, it is closed and the core is told, and so are the url's holders.
   */
  const settle = (url: string, binding: Promise<AddressInfo>, current: () => boolean, forget: () => void, close: () => void): void => {
    binding.then(
      (address) => {
        if (!current()) return close();
        bound.set(url, address);
        log.info({ publication: url, address }, 'public port listening');
        events.emit(`listening ${url}`, address);
      },
      (err: unknown) => {
        if (current()) forget();
        close();
        log.error({ publication: url, err: (err as Error).message }, 'cannot listen on a public port');
        runtime.dispatch({ type: 'public-listen-failed', url });
        events.emit(`failed ${url}`, err);
      },
    );
  };
  const listenUdp = (url: string, port: number): void => {
    const datagrams = createUdpFront(url, { ...front, publication: (u) => publications.get(u) }, {
      host: opts.host, ...(opts.udpIdleMs !== undefined ? { idleMs: opts.udpIdleMs } : {}), ...(opts.limits?.udpFlowRate !== undefined ? { flowRate: opts.limits.udpFlowRate } : {}),
      ...(opts.limits?.udpMaxFlows !== undefined ? { maxFlows: opts.limits.udpMaxFlows } : {}), ...(opts.now ? { now: opts.now } : {}),
    });
    udp.set(url, datagrams);
    settle(url, bindOn(datagrams.socket, port, opts.host, 'public port'), () => udp.get(url) === datagrams, () => udp.delete(url), () => datagrams.close());
  };
  runtime.publicPorts = {
    listen(url, port) {
      // The core asks once per live url; a second ask would bind a second socket and orphan the first
      // (still accepting after unlisten): keep the one there is.
      if (tcp.has(url) || udp.has(url)) return void log.warn({ publication: url }, 'public port already listening; kept');
      if (url.startsWith('udp://')) return listenUdp(url, port);
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, serveTcp(url));
      tcp.set(url, server);
      settle(url, listenOn(server, port, opts.host, 'public port'), () => tcp.get(url) === server, () => tcp.delete(url), () => void server.close());
    },
    unlisten(url) {
      const datagrams = udp.get(url);
      if (datagrams) {
        udp.delete(url);
        bound.delete(url);
        log.info({ publication: url }, 'public port closed');
        datagrams.close();
        events.emit(`closed ${url}`);
        return;
      }
      const server = tcp.get(url);
      tcp.delete(url);
      bound.delete(url);
      if (!server) return;
      log.info({ publication: url }, 'public port closed');
      if (server.listening) server.close(() => events.emit(`closed ${url}`));
      else events.emit(`closed ${url}`);
    },
  };
  return {
    addresses: () => ({ ...shared, tcp: Object.fromEntries(bound) }),
    udp: (url) => udp.get(url),
    stats,
    listening: async (url) => bound.get(url) ?? new Promise<AddressInfo>((resolve, reject) => {
      const ok = (address: AddressInfo): void => { events.off(`failed ${url}`, fail); resolve(address); };
      const fail = (err: Error): void => { events.off(`listening ${url}`, ok); reject(err); };
      events.once(`listening ${url}`, ok);
      events.once(`failed ${url}`, fail);
    }),
    closed: async (url) => {
      if (tcp.has(url) || udp.has(url) || bound.has(url)) await once(events, `closed ${url}`);
    },
    close: async (drainMs?: number) => {
      runtime.publicPorts = undefined;
      for (const front of udp.values()) front.close();
      udp.clear();
      // Stop listening first (new connections are refused, not accepted and then cut), then drain.
      const listenersClosed = [...tcp.values(), ...servers].map((server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())));
      await Promise.all(closers.map((close) => close(drainMs)));
      await Promise.all(listenersClosed);
      tcp.clear();
    },
  };
}
