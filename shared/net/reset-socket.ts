/**
 * Cuts a connection so its peer sees a cut (RST), not a whole stream: resetAndDestroy() where the stream
 * has it (a TCP socket, a WebSocket one), destroy() otherwise. Also destroy() for a socket whose end()
 * is still being flushed: libuv refuses an RST while a shutdown is under way (uv_tcp_close_reset: EINVAL,
 * libuv issue 3661), and Node then never closes the handle: no 'close', a descriptor leaked for good, and
 * a process (or worker thread) that can no longer exit.
 */
import type { Duplex } from 'node:stream';

export type Resettable = Duplex & { resetAndDestroy?: () => unknown };

export function resetSocket(stream: Resettable): void {
  const shuttingDown = stream.writableEnded && !stream.writableFinished;
  if (typeof stream.resetAndDestroy === 'function' && !shuttingDown) stream.resetAndDestroy();
  else stream.destroy();
}
