/** Connects to a local TCP target; refusal or timeout is ERR_SERVER_UNREACHABLE. */
import { connect, type Socket } from 'node:net';
import { BurrowError } from '../errors.js';

export function connectTarget(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, allowHalfOpen: true, noDelay: true });
    const fail = (detail: string): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new BurrowError('ERR_SERVER_UNREACHABLE', detail));
    };
    const timer = setTimeout(() => fail('connect timed out'), timeoutMs);
    socket.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? 'connect failed'));
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
