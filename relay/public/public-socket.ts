/** Every public socket gets an 'error' listener before anything else can happen to it. */
import type { Socket } from 'node:net';
import type { Logger } from '../../shared/log.js';

export function guardSocket(socket: Socket, log: Logger): void {
  socket.on('error', (err: NodeJS.ErrnoException) => {
    log.debug({ code: err.code }, 'public socket error');
    socket.destroy();
  });
}
