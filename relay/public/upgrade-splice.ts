/**
 * WebSocket (and any other `Upgrade:`) requests: a fresh upstream stream of their own, never a keep-alive
 * one, because after a `101` the connection stops being HTTP.
 *
 * The request goes up with its headers as received (case and order kept, `Connection`/`Upgrade`
 * included), and Node's client parses the home server's answer:
 * - `101`: its head is relayed as received, then both sides are spliced with backpressure and half-close.
 *   Bytes the client sent after its head are held until then (a WebSocket client waits for the 101).
 * - anything else (the server refused to upgrade): relayed with `Connection: close`, then the public
 *   connection ends. A blind splice would instead leave the rest of the public connection as a raw pipe
 *   to this server, and a later request naming another host would reach it.
 */
import http, { type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { codeOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { pipeBoth } from '../../shared/net/pipe-both.js';
import { endWithErrorPage, statusForUpstreamError } from './error-page.js';
import { withForwardedHeaders } from './forwarded-headers.js';
import type { HttpRoute, PublicClient } from './http-front-deps.js';
import { hasHeader, stripHopHeaders } from './hop-headers.js';
import type { RequestTarget } from './request-target.js';

export interface UpgradeContext {
  route: HttpRoute;
  target: RequestTarget;
  client: PublicClient;
  open: () => Promise<Duplex>;
  log: Logger;
  onBadGateway(): void;
}

export function spliceUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, ctx: UpgradeContext): void {
  const headers = ctx.route.forwarded
    ? withForwardedHeaders(req.rawHeaders, { clientAddress: ctx.client.address, proto: 'http', host: req.headers.host ?? ctx.target.host })
    : [...req.rawHeaders];
  const createConnection = (_opts: unknown, done: (err: Error | null, stream?: Duplex) => void): undefined => {
    new Promise<Duplex>((resolve) => resolve(ctx.open())).then((stream) => done(null, stream), (err: Error) => done(err));
    return undefined;
  };
  const upReq = http.request({
    method: req.method,
    path: ctx.target.path,
    headers,
    setHost: false,
    createConnection: createConnection as unknown as http.ClientRequestArgs['createConnection'],
  });
  let answered = false;
  const cut = (): void => void upReq.destroy();
  socket.once('close', cut);
  upReq.once('upgrade', (upRes: IncomingMessage, upstream: Socket, upHead: Buffer) => {
    answered = true;
    socket.off('close', cut);
    socket.write(responseHead(upRes, upRes.rawHeaders));
    if (upHead.length > 0) socket.write(upHead);
    if (head.length > 0) upstream.write(head);
    // A public socket gone before its upstream ended its way up (cut, reset, idle): the leg goes too.
    socket.once('close', () => {
      if (!upstream.writableEnded) upstream.destroy();
    });
    void pipeBoth(socket, upstream).then((result) => {
      ctx.log.debug({ route: ctx.route.key, ...(result.error ? { code: result.error } : {}) }, 'upgraded stream ended');
    });
  });
  upReq.once('response', (upRes) => {
    // Refused upgrade: relay the answer, body delimited by the close when its length is unknown.
    answered = true;
    const raw = stripHopHeaders(upRes.rawHeaders);
    raw.push('Connection', 'close');
    socket.write(responseHead(upRes, raw));
    upRes.on('error', () => socket.destroy());
    upRes.once('aborted', () => socket.destroy());
    if (req.method === 'HEAD' || !hasBody(upRes)) return void socket.end();
    upRes.pipe(socket);
  });
  upReq.on('error', (err) => {
    ctx.log.debug({ route: ctx.route.key, code: (err as NodeJS.ErrnoException).code ?? codeOf(err) }, 'upstream upgrade failed');
    if (answered) return void socket.destroy();
    ctx.onBadGateway();
    endWithErrorPage(socket, statusForUpstreamError(err));
  });
  upReq.end();
}

function hasBody(res: IncomingMessage): boolean {
  const status = res.statusCode ?? 0;
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) return false;
  return !hasHeader(res.rawHeaders, 'content-length') || res.headers['content-length'] !== '0';
}

function responseHead(res: IncomingMessage, raw: readonly string[]): string {
  let head = `HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}\r\n`;
  for (let i = 0; i + 1 < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return `${head}\r\n`;
}
