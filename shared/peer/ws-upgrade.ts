/**
 * The WebSocket upgrade of a relay connection (relay-dial.ts): TLS first for wss://, then the upgrade
 * over the stream; what comes back behaves as a net.Socket. Its own module so that only a ws:// or
 * wss:// relay loads ws, node:http and node:tls.
 */
import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { BurrowError } from '../errors.js';
import { asSocket, WS_MAX_PAYLOAD, WsSocket } from '../net/ws-socket.js';
import type { PortRole } from '../protocol/messages.js';
import { formatHostPort, type RelayTarget } from './relay-address.js';
import { DEFAULT_WS_PING_MS, wsRequestPath, type WsTarget } from './relay-url.js';

export function upgrade(tcp: Socket, target: RelayTarget, ws: WsTarget, role: PortRole, timeoutMs: number, onSocket?: (socket: Socket) => void): Promise<Socket> {
  const where = `${ws.tls ? 'wss' : 'ws'}://${formatHostPort(target.host, target.port)}${ws.path}`;
  let secured = !ws.tls;
  const stream: Socket | TLSSocket = ws.tls
    ? tlsConnect({
      socket: tcp, host: target.host, servername: ws.servername ?? (isIP(target.host) ? undefined : target.host), ALPNProtocols: ['http/1.1'],
      ...(ws.ca ? { ca: ws.ca } : {}),
    }).once('secureConnect', () => { secured = true; })
    : tcp;
  return new Promise((resolve, reject) => {
    const client = new WebSocket(`${ws.tls ? 'wss' : 'ws'}://${formatHostPort(target.host, target.port)}${wsRequestPath(ws, role)}`, {
      createConnection: () => stream, handshakeTimeout: timeoutMs, maxPayload: WS_MAX_PAYLOAD, perMessageDeflate: false,
      followRedirects: false, skipUTF8Validation: true, ...(ws.headers ? { headers: ws.headers } : {}),
    });
    const socket = new WsSocket(client, tcp, { pingMs: ws.pingMs ?? DEFAULT_WS_PING_MS });
    let settled = false;
    const fail = (err: BurrowError): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      tcp.destroy();
      reject(err);
    };
    // Destroyed by its owner before the upgrade finished.
    socket.once('close', () => fail(new BurrowError('ERR_CONNECTION_CLOSED', `${where}: closed during the WebSocket upgrade`)));
    client.once('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      // A gateway that cannot reach the relay behind it (nginx: 502, 503, 504) means the relay is down.
      if (status >= 500) fail(new BurrowError('ERR_RELAY_UNREACHABLE', `${where} answered ${status}`));
      else fail(new BurrowError('ERR_NOT_A_RELAY', `${where} answered ${status} to the WebSocket upgrade (wrong path, or not a burrow relay?)`));
    });
    client.prependOnceListener('error', (err: NodeJS.ErrnoException) => {
      if (!secured) fail(new BurrowError('ERR_TLS', `${where}: ${err.code ?? err.message}`));
      else if (/timeout/i.test(err.message)) fail(new BurrowError('ERR_RELAY_UNREACHABLE', `${where}: no WebSocket upgrade in time`));
      else fail(new BurrowError('ERR_RELAY_UNREACHABLE', `${where}: ${err.code ?? err.message}`));
    });
    client.once('open', () => {
      if (settled) return;
      settled = true;
      client.removeAllListeners('unexpected-response');
      socket.opened();
      resolve(asSocket(socket));
    });
    onSocket?.(asSocket(socket));
  });
}
