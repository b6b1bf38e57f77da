/**
 * Loopback sockets for tests that work below the relay: a listener on 127.0.0.1 port 0, a dialled
 * socket, a connected pair. All half-open capable, errors swallowed (the tests watch 'close'), and
 * everything destroyed at teardown.
 */
import { once } from 'node:events';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { ExecutionContext } from 'ava';

export async function listen(t: ExecutionContext, onSocket: (socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

export async function dial(t: ExecutionContext, port: number): Promise<Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  t.teardown(() => socket.destroy());
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

/** A connected pair: `a` dialled, `b` accepted. */
export async function pair(t: ExecutionContext): Promise<{ a: Socket; b: Socket }> {
  let accepted!: (socket: Socket) => void;
  const b = new Promise<Socket>((resolve) => (accepted = resolve));
  const port = await listen(t, (socket) => accepted(socket));
  const a = await dial(t, port);
  return { a, b: await b };
}

