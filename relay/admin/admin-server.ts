/**
 * The admin HTTP server (node:http): routes, the bearer token, and the checks a loopback service needs
 * against browsers (a page on another site must not drive it through DNS rebinding or a cross-site
 * POST). Logs the method, route and status only: never a header, a query string or a token.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { codeOf } from '../../shared/errors.js';
import { listenOn } from '../../shared/net/listen-on.js';
import type { Logger } from '../../shared/log.js';
import { LogLimiter } from '../../shared/log-limiter.js';
import { isLoopbackHost, type AdminBinding } from './admin-binding.js';
import { jsonError, send, type AdminResponse } from './admin-http.js';
import { oneAtATime } from './one-at-a-time.js';
import type { AdminToken } from './admin-token.js';

export interface AdminRoute {
  method: 'GET' | 'POST';
  /** Matched against the path; named groups become params. */
  path: RegExp;
  /** Served without the token: health, the relay's public key, the dashboard's static page. */
  public?: boolean;
  handle(params: Record<string, string>): AdminResponse | Promise<AdminResponse>;
}

export interface AdminServer {
  address: AddressInfo;
  url: string;
  close(): Promise<void>;
}

function hostOf(header: string | undefined): string {
  if (!header) return '';
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(header) ?? /^([^:]+)(?::\d+)?$/.exec(header);
  return m?.[1] ?? '';
}

export function urlOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}/`;
}

export async function startAdminServer(opts: { binding: AdminBinding; token?: AdminToken; routes: AdminRoute[]; log: Logger }): Promise<AdminServer> {
  const { token, routes, log } = opts;
  const refusals = new LogLimiter();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    req.resume();
    // Without a token, only a loopback Host is believed: a rebinding DNS name is refused.
    if (!token && !isLoopbackHost(hostOf(req.headers.host))) return send(res, jsonError(403, 'ERR_INVALID_REQUEST'), false);
    let found: { route: AdminRoute; params: Record<string, string> } | undefined;
    let otherMethod = false;
    for (const route of routes) {
      const m = route.path.exec(path);
      if (!m) continue;
      if (route.method !== method) otherMethod = true;
      else found = { route, params: { ...m.groups } };
      if (found) break;
    }
    if (!found) return send(res, otherMethod ? jsonError(405, 'ERR_INVALID_REQUEST') : jsonError(404, 'ERR_NOT_FOUND'), req.method === 'HEAD');
    const { route, params } = found;
    if (!route.public && token && !token.allows(req.headers.authorization)) {
      // Anyone who can reach the port can make this line: once per 10 s, with the count left out.
      const suppressed = refusals.admit('no-token', Date.now());
      if (suppressed !== undefined) log.warn({ method, route: route.path.source, ...(suppressed > 0 ? { suppressed } : {}) }, 'admin request without a valid token');
      return send(res, jsonError(401, 'ERR_AUTH_FAILED', { 'WWW-Authenticate': 'Bearer realm="burrow-admin"' }), false);
    }
    // A cross-site form or fetch carries its own Origin: actions come only from this origin.
    const origin = req.headers.origin;
    if (method === 'POST' && origin !== undefined && origin.replace(/^https?:\/\//, '').toLowerCase() !== (req.headers.host ?? '').toLowerCase()) {
      return send(res, jsonError(403, 'ERR_INVALID_REQUEST'), false);
    }
    const response = await route.handle(params);
    log.debug({ method, route: route.path.source, status: response.status }, 'admin request');
    send(res, response, req.method === 'HEAD');
  };
  // Header sizes and every timeout set here, not left to node's defaults: a client that stops reading a
  // response (or never finishes a request) is dropped after 30 s of silence.
  const server: Server = createServer({ maxHeaderSize: 16 * 1024 }, oneAtATime((req, res) => handle(req, res).catch((err: unknown) => {
    log.error({ code: codeOf(err), err }, 'admin request failed');
    if (!res.headersSent) send(res, jsonError(500, 'ERR_INTERNAL'), false);
    else res.destroy();
  })));
  // No cap on connections: one would let anyone who reaches the port shut out /healthz and the public
  // well-known files (each connection holds at most one answer and times out, see one-at-a-time.ts).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.maxHeadersCount = 64;
  server.keepAliveTimeout = 5_000;
  server.timeout = 30_000;
  const address = await listenOn(server, opts.binding.port, opts.binding.host, 'admin');
  return {
    address,
    url: urlOf(address),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
