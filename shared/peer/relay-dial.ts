/**
 * Opens a byte stream to one of the relay's ports, whatever the transport: plain TCP, TCP through an
 * HTTP CONNECT proxy, or a WebSocket (ws:// or wss://, itself possibly through the proxy). What comes
 * back behaves as a net.Socket; burrow's Hello, login and end-to-end layer run inside it unchanged.
 * One deadline covers the proxy, TLS and the upgrade. A WebSocket data connection costs the upgrade's
 * round trip and nothing more: the peer's first frame follows the 101 at once (ws-upgrade.ts, loaded
 * only for a ws:// or wss:// relay: a `client stdio` over TCP does not pay for ws, http and tls).
 */
import { connect, type Socket } from 'node:net';
import { BurrowError } from '../errors.js';
import { connectViaProxy } from '../net/http-connect.js';
import type { PortRole } from '../protocol/messages.js';
import type { RelayTarget } from './relay-address.js';

export function connectSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new BurrowError('ERR_RELAY_UNREACHABLE', `${host}:${port}: connect timed out`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new BurrowError('ERR_RELAY_UNREACHABLE', `${host}:${port}: ${err.code ?? 'error'}`));
    });
  });
}

/** Whether this target is reached any other way than a direct TCP connection. */
export function indirect(target: RelayTarget): boolean {
  return target.ws !== undefined || target.proxy !== undefined;
}

/**
 * `onSocket` sees the stream as soon as it exists (a WebSocket still in its upgrade included), so an
 * owner that gives up on it (a skeleton whose session died) can destroy it before the deadline.
 */
export async function dialRelay(target: RelayTarget, role: PortRole, timeoutMs: number, onSocket?: (socket: Socket) => void): Promise<Socket> {
  const started = Date.now();
  const tcp = target.proxy
    ? await connectViaProxy(target.proxy, target.host, target.port, timeoutMs)
    : await connectSocket(target.host, target.port, timeoutMs);
  if (!target.ws) {
    onSocket?.(tcp);
    return tcp;
  }
  tcp.setNoDelay(true);
  const { upgrade } = await import('./ws-upgrade.js');
  return upgrade(tcp, target, target.ws, role, Math.max(1, timeoutMs - (Date.now() - started)), onSocket);
}
