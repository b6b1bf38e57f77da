/**
 * Every public socket gets an 'error' listener before anything else can happen to it. A socket reset
 * before it was accepted has no peer address any more: it is closed at once (false), never served
 * under an empty address, which no allow or deny list and no per-source cap would match.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../shared/log.js';

export function guardSocket(socket: Socket, log: Logger): boolean {
  socket.on('error', (err: NodeJS.ErrnoException) => {
    log.debug({ code: err.code }, 'public socket error');
    socket.destroy();
  });
  if (socket.remoteAddress) return true;
  socket.destroy();
  return false;
}
