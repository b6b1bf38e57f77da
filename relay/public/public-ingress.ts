/**
 * The relay's public side (a DMZ gateway): a listener for each live tcp publication, opened when the
 * core says it became live and closed when nobody publishes it any more, and the shared HTTP and HTTPS
 * ports. Every public connection passes the front door first.
 */
import { EventEmitter, once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from '../../shared/log.js';
import { listenOn } from '../../shared/net/listen-on.js';
import type { RelayRuntime } from '../io/relay-runtime.js';
import { passThrough } from './tcp-front.js';
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
}

export interface PublicIngress {
  /** Where the shared ports listen (absent when off), and the tcp publications' ports now open. */
  addresses(): { http?: AddressInfo; https?: AddressInfo; tcp: Record<string, AddressInfo> };
  /** Resolves once a tcp publication's port listens (at once if it does); rejects if it cannot (ERR_LISTEN). */
  listening(url: string): Promise<AddressInfo>;
  /** Resolves once a tcp publication's port is closed (at once if it is not open). */
  closed(url: string): Promise<void>;
  /** Per-publication counters: connections, bytes, refusals by reason. */
  stats: PublicStats;
  close(): Promise<void>;
}


export async function startIngress(runtime: RelayRuntime, opts: IngressOptions, log: Logger): Promise<PublicIngress> {
  const tcp = new Map<string, Server>();
  const bound = new Map<string, AddressInfo>();
  const events = new EventEmitter();
  const stats = new PublicStats();
  const door = new PublicDoor(stats, log, opts.limits);
  const publications = runtime.core.state.publications;
  const front = { open: runtime.publicLegs.open.bind(runtime.publicLegs), stats, log, door, headTimeoutMs: opts.headTimeoutMs ?? 10_000 };
  const serveTcp = (url: string) => (socket: Socket): void => {
    guardSocket(socket, log);
    const source = socket.remoteAddress ?? '0.0.0.0';
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
  const closers: (() => Promise<void>)[] = [];
  if (opts.httpPort !== undefined) {
    const http = startHttpFront({ ...front, publications, legs: runtime.publicLegs });
    servers.push(http.server);
    closers.push(() => http.front.close());
    stats.addSource('http', http.refusals);
    shared.http = await listenOn(http.server, opts.httpPort, opts.host, 'http port');
  }
  if (opts.httpsPort !== undefined) {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      guardSocket(socket, log);
      serveHttps(socket, { ...front, resolve: (host) => publications.resolveHost('https', host), ...(opts.own ? { own: opts.own } : {}) });
    });
    servers.push(server);
    shared.https = await listenOn(server, opts.httpsPort, opts.host, 'https port');
  }
  runtime.publicPorts = {
    listen(url, port) {
      // The core asks once per live url; a second ask would bind a second server and orphan the first
      // (still accepting after unlisten): keep the one there is.
      if (tcp.has(url)) return void log.warn({ publication: url }, 'public port already listening; kept');
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, serveTcp(url));
      tcp.set(url, server);
      listenOn(server, port, opts.host, 'public port').then(
        (address) => {
          if (tcp.get(url) !== server) return void server.close();
          bound.set(url, address);
          log.info({ publication: url, address }, 'public port listening');
          events.emit(`listening ${url}`, address);
        },
        (err: unknown) => {
          if (tcp.get(url) === server) tcp.delete(url);
          log.error({ publication: url, err: (err as Error).message }, 'cannot listen on a public port');
          runtime.dispatch({ type: 'public-listen-failed', url });
          events.emit(`failed ${url}`, err);
        },
      );
    },
    unlisten(url) {
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
    stats,
    listening: async (url) => bound.get(url) ?? new Promise<AddressInfo>((resolve, reject) => {
      const ok = (address: AddressInfo): void => { events.off(`failed ${url}`, fail); resolve(address); };
      const fail = (err: Error): void => { events.off(`listening ${url}`, ok); reject(err); };
      events.once(`listening ${url}`, ok);
      events.once(`failed ${url}`, fail);
    }),
    closed: async (url) => {
      if (tcp.has(url) || bound.has(url)) await once(events, `closed ${url}`);
    },
    close: async () => {
      runtime.publicPorts = undefined;
      await Promise.all(closers.map((close) => close()));
      await Promise.all([...tcp.values(), ...servers].map((server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))));
      tcp.clear();
    },
  };
}
