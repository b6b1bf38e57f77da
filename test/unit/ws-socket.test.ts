/**
 * A WebSocket as a socket (shared/net/ws-socket.ts): a cut (resetAndDestroy) reaches the peer as a reset,
 * as a TCP RST does, never as the end of the stream; destroy() without an error is the end (a FIN).
 */
import test, { type ExecutionContext } from 'ava';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { WsSocket } from '../../shared/net/ws-socket.js';

async function wsPair(t: ExecutionContext): Promise<{ a: WsSocket; b: WsSocket }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await once(server, 'listening');
  const accepted = new Promise<WsSocket>((resolve) => server.once('connection', (ws, req) => resolve(new WsSocket(ws, req.socket as Socket))));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await once(client, 'open');
  const a = new WsSocket(client, (client as unknown as { _socket: Socket })._socket);
  const b = await accepted;
  t.teardown(() => { a.destroy(); b.destroy(); });
  return { a, b };
}

function howItEnds(socket: WsSocket): Promise<string> {
  return new Promise((resolve) => {
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    socket.once('end', () => resolve('end'));
    socket.resume();
  });
}

test('resetAndDestroy: the peer sees ECONNRESET, not an end', async (t) => {
  const { a, b } = await wsPair(t);
  const seen = howItEnds(b);
  a.on('error', () => undefined);
  a.resetAndDestroy();
  t.is(await seen, 'ECONNRESET');
});

test('destroy() without an error: the peer sees the end of the stream', async (t) => {
  const { a, b } = await wsPair(t);
  const seen = howItEnds(b);
  a.destroy();
  t.is(await seen, 'end');
});
