/**
 * The relay's shared public HTTP port: routes EACH request by its own `Host` to the publication serving
 * that name and carries it to the home server over a broker stream of that public connection's own
 * (http-session.ts: why per request, why streams are never shared between public clients).
 *
 * HTTP is parsed by Node's own parser only (http1-parser.ts), both ways; the relay accepts each public
 * socket itself and hands it over with `handle(socket)`.
 *
 * Answers of its own: 400 (no usable Host, garbage), 404 (no such publication; the connection lives
 * on), 431 (head too large), 502 (home server offline or gone before answering; then close). Pages name
 * nothing internal (error-page.ts).
 */
import { resetSocket } from '../../shared/net/reset-socket.js';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HttpFrontDeps, HttpRoute, PublicClient } from './http-front-deps.js';
import type { Http1Head } from './http1-parser.js';
import { announcesBody } from './hop-headers.js';
import { HttpSession, type Decision } from './http-session.js';
import { RefusalLog } from './refusal-log.js';
import { requestTarget } from './request-target.js';

export type { HttpFrontDeps, HttpRoute, PublicClient } from './http-front-deps.js';

export const HTTP_FRONT_DEFAULTS = {
  headTimeoutMs: 10_000,
  maxHeaderSize: 16 * 1024,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 120_000,
  maxRequestsPerConnection: 1000,
} as const;

/** Seconds a client is asked to wait (Retry-After) for a name whose skeleton is restarting. */
export const GONE_RETRY_AFTER_S = 5;

export interface HttpFrontStats {
  connections: number;
  requests: number;
  upgrades: number;
  badRequest: number;
  notFound: number;
  /** Requests for a name whose skeleton is restarting (503, Retry-After), not counted in notFound. */
  goneForNow: number;
  badGateway: number;
  headTimeouts: number;
  /** Connections cut for pipelining more requests than may wait (http-session.ts MAX_OWED). */
  pipelineFloods: number;
  /** Requests being handled now, over all connections (each connection at most MAX_IN_FLIGHT). */
  inFlight: number;
}

export interface HttpFront {
  /** Serves one accepted public socket. */
  handle(socket: Socket): void;
  /** Stops, draining for up to `drainMs` (see close below); resolves once every public connection has closed. */
  close(drainMs?: number): Promise<void>;
  stats(): HttpFrontStats;
}

export function createHttpFront(deps: HttpFrontDeps): HttpFront {
  const opts = { ...HTTP_FRONT_DEFAULTS, ...definedOnly(deps) };
  const log = deps.log.child({ front: 'http' });
  // Refusals are logged once per source penalty unit (an IPv4 address, an IPv6 /64) and reason a minute.
  const refusalLog = new RefusalLog();
  const now = deps.now ?? Date.now;
  const stats: Omit<HttpFrontStats, 'inFlight'> = { connections: 0, requests: 0, upgrades: 0, badRequest: 0, notFound: 0, goneForNow: 0, badGateway: 0, headTimeouts: 0, pipelineFloods: 0 };
  const conns = new Map<Socket, HttpSession>();
  let closing = false;

  /** `source`: the address taken at accept (a reset socket no longer knows its peer). */
  const peerLine = (source: string, reason: string, fields: Record<string, unknown> = {}): void =>
    refusalLog.note(source, 'http', reason, now(), (line) =>
      log.warn({ ...line, ...fields }, 'public http request refused'));

  const clientOf = (socket: Socket): PublicClient => ({ address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 });

  const resolveSafely = (host: string): HttpRoute | undefined => {
    try {
      return deps.resolve(host);
    } catch (err) {
      log.error({ err }, 'publication lookup failed'); // our bug: answer 404 rather than crash the relay
      return undefined;
    }
  };

  /** Where a request goes, or the front's own answer: 400 (no usable Host, CONNECT) or 404 (no such publication). */
  const decide = (source: string, head: Http1Head): Decision => {
    stats.requests++;
    if (head.upgrade && head.method !== 'CONNECT') stats.upgrades++;
    if (head.method === 'CONNECT') {
      // CONNECT is for forward proxies; this is a reverse proxy.
      stats.badRequest++;
      peerLine(source, 'connect-method');
      return { kind: 'answer', status: 400, close: true };
    }
    const target = requestTarget(head);
    if (!target) {
      stats.badRequest++;
      peerLine(source, 'bad-host');
      return { kind: 'answer', status: 400, close: true };
    }
    const route = resolveSafely(target.host);
    if (!route && deps.recentlyGone?.(target.host)) {
      stats.goneForNow++;
      log.debug({ host: target.host }, 'publication gone for now');
      // Its skeleton is restarting or reconnecting: "try again soon", which no client caches as a missing page.
      return { kind: 'answer', status: 503, close: head.upgrade || announcesBody(head.rawHeaders), retryAfter: GONE_RETRY_AFTER_S };
    }
    if (!route) {
      stats.notFound++;
      log.debug({ host: target.host }, 'no publication for host');
      // An upgrade, or a request whose body is on its way, ends the connection after the 404 (its body
      // would have to be read and dropped first; an upgrade's bytes are not HTTP).
      return { kind: 'answer', status: 404, close: head.upgrade || announcesBody(head.rawHeaders) };
    }
    return { kind: 'forward', route, path: target.path, sentHost: target.sentHost };
  };

  const handle = (socket: Socket): void => {
    socket.on('error', (err: NodeJS.ErrnoException) => log.debug({ code: err.code }, 'public socket error'));
    // No peer address (reset before it was accepted): no rule could be applied to it.
    if (closing || socket.destroyed || !socket.remoteAddress) return void socket.destroy();
    stats.connections++;
    // A client's half-close ends neither its answers nor an upgraded stream's other direction.
    socket.allowHalfOpen = true;
    // Small heads and responses go out at once (Nagle plus delayed ACKs costs ~40 ms per exchange).
    socket.setNoDelay(true);
    const client = clientOf(socket);
    const session: HttpSession = new HttpSession(socket, opts, {
      decide: (head) => decide(client.address, head),
      open: (route): Promise<Duplex> => deps.open(route, client, () => session.busy),
      headRead: () => deps.headRead?.(socket),
      clientAddress: client.address,
      headTimeout: () => {
        stats.headTimeouts++;
        peerLine(client.address, 'head-timeout');
      },
      flood: () => {
        stats.pipelineFloods++;
        peerLine(client.address, 'pipeline-flood');
      },
      badHead: (code) => {
        stats.badRequest++;
        peerLine(client.address, 'bad-head', { code });
      },
      badGateway: () => void stats.badGateway++,
      upgraded: () => undefined,
      debug: (fields, msg) => log.debug(fields, msg),
    });
    conns.set(socket, session);
    socket.once('close', () => conns.delete(socket));
  };

  /**
   * Stops. With `drainMs`: idle connections close now, busy ones once their requests under way are
   * answered (a request that arrives meanwhile gets 503), upgraded ones when their stream ends, and
   * whatever is left after `drainMs` is cut. Without: every connection is cut at once. Resolves once all
   * have closed.
   */
  const close = async (drainMs = 0): Promise<void> => {
    closing = true;
    const closed = [...conns.keys()].map((s) => new Promise<void>((resolve) => (s.closed ? resolve() : s.once('close', () => resolve()))));
    if (drainMs <= 0) for (const socket of conns.keys()) socket.destroy();
    else for (const conn of conns.values()) conn.drain();
    // What is still under way at the deadline is reset: an answer cut there must not look whole.
    const deadline = drainMs > 0 ? setTimeout(() => { for (const socket of conns.keys()) resetSocket(socket); }, drainMs) : undefined;
    await Promise.all(closed);
    clearTimeout(deadline);
  };

  const inFlight = (): number => [...conns.values()].reduce((n, conn) => n + conn.inFlight, 0);
  return { handle, close, stats: () => ({ ...stats, inFlight: inFlight() }) };
}


function definedOnly(deps: HttpFrontDeps): Partial<typeof HTTP_FRONT_DEFAULTS> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(HTTP_FRONT_DEFAULTS) as (keyof typeof HTTP_FRONT_DEFAULTS)[]) {
    const value = deps[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
