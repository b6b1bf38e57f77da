/**
 * The relay's WebSocket endpoint (--ws-port, --ws-path): one HTTP listener that upgrades requests for
 * PATH?role=client and PATH?role=skeleton and hands each WebSocket, as a socket-like stream, to the
 * same accept path as the two TCP ports. Everything else gets a 404 and the connection closes.
 *
 * Bounds: the request head within HANDSHAKE_MS (and at most 16 KiB), at most MAX_PENDING connections
 * still before their upgrade, messages at most WS_MAX_PAYLOAD, no compression. After the upgrade the
 * relay core's per-source guard counts and charges the connection as it does a TCP one.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Logger } from '../../shared/log.js';
import { listenOn } from '../../shared/net/listen-on.js';
import { asSocket, WS_MAX_PAYLOAD, WsSocket } from '../../shared/net/ws-socket.js';
import type { PortRole } from '../../shared/protocol/messages.js';

/** A connection has this long to send its upgrade request. */
export const HANDSHAKE_MS = 10_000;
/** Connections accepted but not yet upgraded, all sources together. */
export const MAX_PENDING = 256;

export interface WsListenerOptions {
  host: string;
  /** Absent: the endpoint listens on no port of its own (it is reached only through the HTTPS port, one-port mode). */
  port?: number;
  path: string;
  /** Take the peer's address from the last X-Forwarded-For entry (the reverse proxy in front sets it). */
  trustForwardedFor?: boolean;
  log: Logger;
  accept(socket: Socket, role: PortRole): void;
}

export interface WsListener {
  /** Absent when it listens on no port of its own. */
  address?: AddressInfo;
  /** The HTTP server under it: closing it stops accepting (the relay closes it with its TCP listeners). */
  server: Server;
}

export async function startWsListener(opts: WsListenerOptions): Promise<WsListener> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD, perMessageDeflate: false, skipUTF8Validation: true, clientTracking: false });
  const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: HANDSHAKE_MS, headersTimeout: HANDSHAKE_MS }, (_req, res) => {
    res.writeHead(404, { connection: 'close' }).end();
  });
  let pending = 0;
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => socket.destroy());
    if (++pending > MAX_PENDING) {
      pending--;
      socket.destroy();
      return;
    }
    const timer = setTimeout(() => socket.destroy(), HANDSHAKE_MS);
    timer.unref();
    let counted = true;
    const settle = (): void => {
      if (!counted) return;
      counted = false;
      pending--;
      clearTimeout(timer);
    };
    socket.once('close', settle);
    (socket as Socket & { settleHandshake?: () => void }).settleHandshake = settle;
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    (socket as Socket & { settleHandshake?: () => void }).settleHandshake?.();
    const role = roleOf(req, opts.path);
    if (!role) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const remoteAddress = opts.trustForwardedFor ? forwardedFor(req) : undefined;
      opts.accept(asSocket(new WsSocket(ws, socket, remoteAddress ? { remoteAddress } : {})), role);
    });
  });
  if (opts.port === undefined) return { server };
  const address = await listenOn(server, opts.port, opts.host, 'ws port');
  opts.log.debug({ ws: address, path: opts.path }, 'WebSocket endpoint listening');
  return { address, server };
}

/** The relay port a request means: PATH?role=client|skeleton, nothing else. */
function roleOf(req: IncomingMessage, path: string): PortRole | undefined {
  const url = new URL(req.url ?? '/', 'http://relay');
  if (url.pathname !== path) return undefined;
  const role = url.searchParams.get('role');
  return role === 'client' || role === 'skeleton' ? role : undefined;
}

function forwardedFor(req: IncomingMessage): string | undefined {
  const header = req.headers['x-forwarded-for'];
  const last = (Array.isArray(header) ? header.join(',') : header ?? '').split(',').pop()?.trim();
  return last && isIP(last) !== 0 ? last : undefined;
}
