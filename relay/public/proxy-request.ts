/**
 * Carries one public request to its home server and the response back, streaming both bodies with
 * backpressure (pipe): nothing is buffered beyond the streams' high-water marks, so a 1 GiB upload or
 * download, a chunked body or a server-sent event stream passes as it comes.
 *
 * Details: `Expect: 100-continue` is forwarded and the home server's 100 relayed (the client sends its
 * body only then); 103 Early Hints are relayed; trailers are relayed both ways when the hop is chunked;
 * HEAD, 204 and 304 carry no body (Node's client and server both know). A response whose length is not
 * known in advance has its head flushed at once, so an event stream's client sees it before any event.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { codeOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { sendErrorPage, statusForUpstreamError } from './error-page.js';
import { withForwardedHeaders } from './forwarded-headers.js';
import type { HttpRoute, PublicClient } from './http-front-deps.js';
import { hasHeader, stripHopHeaders, trailerPairs, upstreamRequestHeaders } from './hop-headers.js';
import type { RequestTarget } from './request-target.js';
import type { RouteAgent } from './route-agent.js';

export interface ProxyContext {
  route: HttpRoute;
  agent: RouteAgent;
  target: RequestTarget;
  client: PublicClient;
  log: Logger;
  /** The home server could not be reached or died before answering: a 502 went out. */
  onBadGateway(): void;
}

/** Starts the upstream request; the caller tracks it so that it ends with the public connection. */
export function proxyRequest(req: IncomingMessage, res: ServerResponse, ctx: ProxyContext): http.ClientRequest {
  let headers = upstreamRequestHeaders(req.rawHeaders);
  if (ctx.route.forwarded) {
    headers = withForwardedHeaders(headers, { clientAddress: ctx.client.address, proto: 'http', host: req.headers.host ?? ctx.target.host });
  }
  const upReq = http.request({ agent: ctx.agent, method: req.method, path: ctx.target.path, headers, setHost: false });
  upReq.on('information', (info) => relayInformational(res, info.statusCode, info.headers));
  upReq.once('response', (upRes) => relayResponse(upRes, res, ctx));
  upReq.on('error', (err) => {
    ctx.log.debug({ route: ctx.route.key, code: (err as NodeJS.ErrnoException).code ?? codeOf(err) }, 'upstream request failed');
    if (res.headersSent) return cutResponse(res);
    ctx.onBadGateway();
    sendErrorPage(res, statusForUpstreamError(err), true);
  });
  // The public client went away first: drop the upstream stream with it (it may be mid-message).
  res.once('close', () => {
    if (!res.writableFinished) upReq.destroy();
  });
  req.on('error', () => upReq.destroy());
  req.once('end', () => copyTrailers(req, upReq));
  req.pipe(upReq);
  return upReq;
}

function relayInformational(res: ServerResponse, status: number, headers: http.IncomingHttpHeaders): void {
  if (res.headersSent || res.req.httpVersionMinor === 0) return;
  if (status === 100) res.writeContinue();
  else if (status === 103 && headers.link) res.writeEarlyHints({ link: headers.link });
}

function relayResponse(upRes: IncomingMessage, res: ServerResponse, ctx: ProxyContext): void {
  const headers = stripHopHeaders(upRes.rawHeaders);
  try {
    res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, headers);
  } catch (err) {
    ctx.log.warn({ route: ctx.route.key, code: (err as NodeJS.ErrnoException).code }, 'upstream response head not relayable');
    upRes.destroy();
    ctx.onBadGateway();
    return void sendErrorPage(res, 502, true);
  }
  if (!hasHeader(upRes.rawHeaders, 'content-length')) res.flushHeaders();
  upRes.once('end', () => copyTrailers(upRes, res));
  upRes.on('error', () => cutResponse(res));
  // Ended early by the home server (cut mid-body): the client must see a cut, not a short body.
  upRes.once('aborted', () => cutResponse(res));
  upRes.pipe(res);
}

/** Trailers of `from` onto `to`; registered before pipe, so it runs before pipe ends `to`. */
function copyTrailers(from: IncomingMessage, to: http.OutgoingMessage): void {
  if (from.rawTrailers.length > 0) to.addTrailers(trailerPairs(from.rawTrailers));
}

/**
 * A response cut after its head went out: the public connection is reset, not closed, so that no client
 * takes what it got for the whole body (an HTTP/1.0 body without a length ends with the connection).
 */
function cutResponse(res: ServerResponse): void {
  const socket = res.socket;
  if (socket && !socket.destroyed) socket.resetAndDestroy();
  else res.destroy();
}
