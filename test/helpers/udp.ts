/**
 * UDP on loopback for tests: an echo server that remembers which peers (address:port) it heard and the
 * size of every datagram, and a local app socket that asks and awaits the answer (bounded in time, so a
 * lost datagram fails the test instead of hanging it). Port 0 everywhere; teardown closes them.
 */
import type { ExecutionContext } from 'ava';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';

export interface UdpEcho {
  port: number;
  /** Every source address:port heard, in order of first datagram. */
  peers: string[];
  /** The payload size of every datagram received. */
  sizes: number[];
}

export async function udpEcho(t: ExecutionContext): Promise<UdpEcho> {
  const socket = createSocket('udp4');
  const echo: UdpEcho = { port: 0, peers: [], sizes: [] };
  socket.on('message', (msg, from) => {
    const peer = `${from.address}:${from.port}`;
    if (!echo.peers.includes(peer)) echo.peers.push(peer);
    echo.sizes.push(msg.length);
    socket.send(msg, from.port, from.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  t.teardown(() => socket.close());
  echo.port = socket.address().port;
  return echo;
}

export interface UdpApp {
  socket: Socket;
  /** Sends `datagram` to 127.0.0.1:port and resolves with the next datagram received; rejects after `ms`. */
  ask(port: number, datagram: Buffer, ms?: number): Promise<Buffer>;
}

/** A local UDP app on `address` (a loopback address: another one is another public source). */
export async function udpApp(t: ExecutionContext, address = '127.0.0.1'): Promise<UdpApp> {
  const socket = createSocket('udp4');
  socket.bind(0, address);
  await once(socket, 'listening');
  t.teardown(() => socket.close());
  return {
    socket,
    ask: (port, datagram, ms = 10_000) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.off('message', onMessage);
        reject(new Error(`no answer within ${ms} ms to a ${datagram.length}-byte datagram`));
      }, ms);
      const onMessage = (msg: Buffer): void => {
        clearTimeout(timer);
        resolve(msg);
      };
      socket.once('message', onMessage);
      socket.send(datagram, port, '127.0.0.1');
    }),
  };
}
