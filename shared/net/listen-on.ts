/**
 * Every listening socket burrow opens (the relay's client, skeleton and admin ports, a forwarder's local
 * port) starts here, so a port that cannot be had is one error: ERR_LISTEN naming which listener and
 * why (in use, not allowed, not an address of this machine), which the CLI turns into the flag to change.
 */
import type { Socket as DatagramSocket } from 'node:dgram';
import type { AddressInfo, Server } from 'node:net';
import { BurrowError } from '../errors.js';
import { formatHostPort } from '../peer/relay-address.js';

export type Listener = 'client port' | 'skeleton port' | 'admin' | 'forwarder' | 'http port' | 'https port' | 'public port' | 'ws port';

const WHY: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'not an address of this machine',
};

export class ListenError extends BurrowError {
  constructor(
    readonly listener: Listener,
    readonly address: string,
    /** The system's code: EADDRINUSE, EACCES, EADDRNOTAVAIL, ... */
    readonly reason: string,
  ) {
    super('ERR_LISTEN', `${listener} ${address}: ${WHY[reason] ?? reason}`);
  }
}

/** Listens on host:port; resolves with the bound address, rejects with a ListenError. */
export function listenOn(server: Server, port: number, host: string, listener: Listener): Promise<AddressInfo> {
  return opened(server, port, host, listener, (done) => server.listen(port, host, done), () => server.address() as AddressInfo);
}

/** Binds a UDP socket to host:port (a UDP forwarder's local port); resolves with the bound address, rejects with a ListenError. */
export function bindOn(socket: DatagramSocket, port: number, host: string, listener: Listener): Promise<AddressInfo> {
  return opened(socket, port, host, listener, (done) => socket.bind(port, host, done), () => socket.address());
}

/** Runs `open` on a server or socket: its first 'error' before `done` is the ListenError. */
function opened(
  target: Server | DatagramSocket, port: number, host: string, listener: Listener, open: (done: () => void) => void, address: () => AddressInfo,
): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new ListenError(listener, formatHostPort(host, port), err.code ?? 'error'));
    target.once('error', onError);
    open(() => {
      target.off('error', onError);
      resolve(address());
    });
  });
}
