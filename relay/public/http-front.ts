/**
 * The relay's shared public HTTP port: routes EACH request by its own `Host` to the publication serving
 * that name and carries it to the home server over a broker stream (see public-connection.ts for why
 * per request, route-agent.ts for why upstream streams are never shared between public clients).
 *
 * HTTP is parsed by Node's own parser only: a node:http Server that never listens; the relay accepts
 * each public socket itself and hands it over with `handle(socket)`.
 *
 * Answers of its own: 400 (no usable Host, garbage), 404 (no such publication; the connection lives
 * on), 431 (head too large), 502 (home server offline or gone before answering; then close). Pages name
 * nothing internal (error-page.ts).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { endWithErrorPage, sendErrorPage } from './error-page.js';
import type { HttpFrontDeps, HttpRoute, PublicClient } from './http-front-deps.js';
import { PublicConnection } from './public-connection.js';
import { proxyRequest } from './proxy-request.js';
import { RefusalLog } from './refusal-log.js';
import { requestTarget } from './request-target.js';
import { spliceUpgrade } from './upgrade-splice.js';

export type { HttpFrontDeps, HttpRoute, PublicClient } from './http-front-deps.js';

export const HTTP_FRONT_DEFAULTS = {
  headTimeoutMs: 10_000,
  maxHeaderSize: 16 * 1024,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 120_000,
  maxRequestsPerConnection: 1000,
} as const;

export interface HttpFrontStats {
  connections: number;
  requests: number;
  upgrades: number;
  badRequest: number;
  notFound: number;
  badGateway: number;
  headTimeouts: number;
  /** Connections cut for pipelining more requests than may wait (public-connection.ts MAX_WAITING). */
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
  const stats: Omit<HttpFrontStats, 'inFlight'> = { connections: 0, requests: 0, upgrades: 0, badRequest: 0, notFound: 0, badGateway: 0, headTimeouts: 0, pipelineFloods: 0 };
  const conns = new Map<Socket, PublicConnection>();
  let closing = false;
  const server = http.createServer({
    maxHeaderSize: opts.maxHeaderSize,
    // Node enforces these only on a listening server; public-connection.ts enforces the head deadline.
    headersTimeout: opts.headTimeoutMs,
    requestTimeout: 0, // a 1 GiB upload may take long; idleTimeoutMs catches a stalled one
    keepAliveTimeout: opts.keepAliveTimeoutMs,
    joinDuplicateHeaders: false,
    requireHostHeader: true,
  });
  server.timeout = opts.idleTimeoutMs;
  server.maxRequestsPerSocket = opts.maxRequestsPerConnection;

  const peerLine = (socket: Socket, reason: string, fields: Record<string, unknown> = {}): void =>
    refusalLog.note(socket.remoteAddress ?? '', 'http', reason, now(), (line) =>
      log.warn({ ...line, ...fields }, 'public http request refused'));

  const clientOf = (socket: Socket): PublicClient => ({ address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 });
  const open = (route: HttpRoute, client: PublicClient, busy?: () => boolean): Promise<Duplex> => deps.open(route, client, busy);

  const resolveSafely = (host: string): HttpRoute | undefined => {
    try {
      return deps.resolve(host);
    } catch (err) {
      log.error({ err }, 'publication lookup failed'); // our bug: answer 404 rather than crash the relay
      return undefined;
    }
  };

  /** The route of a request, or undefined after answering it (400 or 404) itself. */
  const routeOf = (req: IncomingMessage, answer: (status: 400 | 404) => void) => {
    const target = requestTarget(req);
    if (!target) {
      stats.badRequest++;
      peerLine(req.socket, 'bad-host');
      return void answer(400);
    }
    const route = resolveSafely(target.host);
    if (!route) {
      stats.notFound++;
      log.debug({ host: target.host }, 'no publication for host');
      return void answer(404);
    }
    return { target, route };
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const conn = conns.get(req.socket);
    if (!conn) return void res.destroy();
    stats.requests++;
    deps.headRead?.(req.socket);
    const { done } = conn.requestStarted();
    if (conn.draining) {
      // The relay is stopping: requests under way finish, a new one is told to come back.
      res.once('close', done);
      return void sendErrorPage(res, 503, true);
    }
    const release = conn.admit(() => forward(conn, req, res));
    res.once('close', () => {
      release();
      done();
    });
  };

  const forward = (conn: PublicConnection, req: IncomingMessage, res: ServerResponse): void => {
    // A 404 keeps the connection unless a body is on its way: Node would read and drop all of it first.
    const routed = routeOf(req, (status) => sendErrorPage(res, status, status === 400 || announcesBody(req)));
    if (!routed) return;
    const client = clientOf(req.socket);
    const upReq = proxyRequest(req, res, {
      ...routed,
      client,
      agent: conn.agentFor(routed.route),
      log,
      onBadGateway: () => void stats.badGateway++,
    });
    conn.track(upReq);
  };

  server.on('request', onRequest);
  server.on('checkContinue', onRequest);
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const conn = conns.get(socket);
    if (!conn) return void socket.destroy();
    conn.upgraded();
    // Node's server dropped its own timeout handling at the upgrade: an idle tunnel (no byte either way,
    // or no 101 yet) is cut after idleTimeoutMs, as an idle request is; its upstream goes with it.
    socket.setTimeout(opts.idleTimeoutMs);
    socket.on('timeout', () => socket.destroy());
    stats.upgrades++;
    deps.headRead?.(socket);
    const routed = routeOf(req, (status) => endWithErrorPage(socket, status));
    if (!routed) return;
    const client = clientOf(socket);
    spliceUpgrade(req, socket, head, {
      ...routed,
      client,
      open: () => open(routed.route, client),
      log,
      onBadGateway: () => void stats.badGateway++,
    });
  });
  // CONNECT is for forward proxies; this is a reverse proxy (Node would only drop the socket).
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    stats.badRequest++;
    peerLine(socket, 'connect-method');
    endWithErrorPage(socket, 400);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code ?? 'ERR_HTTP';
    if (code === 'ECONNRESET' || code === 'EPIPE') return void socket.destroy();
    stats.badRequest++;
    peerLine(socket, 'bad-head', { code });
    endWithErrorPage(socket, code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400);
  });

  const handle = (socket: Socket): void => {
    socket.on('error', (err: NodeJS.ErrnoException) => log.debug({ code: err.code }, 'public socket error'));
    if (closing || socket.destroyed) return void socket.destroy();
    stats.connections++;
    // As a listening http.Server would have it: a client's half-close ends neither its response nor an
    // upgraded stream's other direction (Node's server decides when to end the socket).
    socket.allowHalfOpen = true;
    // Small heads and responses go out at once (Nagle plus delayed ACKs costs ~40 ms per exchange).
    socket.setNoDelay(true);
    const conn = new PublicConnection(socket, {
      open: (route) => open(route, clientOf(socket), () => conn.busy),
      headTimeoutMs: opts.headTimeoutMs,
      onHeadTimeout: () => {
        stats.headTimeouts++;
        peerLine(socket, 'head-timeout');
      },
      onFlood: () => {
        stats.pipelineFloods++;
        peerLine(socket, 'pipeline-flood');
      },
    });
    conns.set(socket, conn);
    socket.once('close', () => conns.delete(socket));
    server.emit('connection', socket);
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
    const deadline = drainMs > 0 ? setTimeout(() => { for (const socket of conns.keys()) socket.resetAndDestroy(); }, drainMs) : undefined;
    await Promise.all(closed);
    clearTimeout(deadline);
  };

  const inFlight = (): number => [...conns.values()].reduce((n, conn) => n + conn.inFlight, 0);
  return { handle, close, stats: () => ({ ...stats, inFlight: inFlight() }) };
}

function announcesBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

function definedOnly(deps: HttpFrontDeps): Partial<typeof HTTP_FRONT_DEFAULTS> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(HTTP_FRONT_DEFAULTS) as (keyof typeof HTTP_FRONT_DEFAULTS)[]) {
    const value = deps[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
