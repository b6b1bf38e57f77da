/**
 * One public connection through to its home server: the front door admits it (or it is cut at once),
 * the relay asks the broker for a leg to the home server, then bytes flow both ways with backpressure
 * and half-close. While the leg is being set up the socket is read, but only up to its readable high
 * water mark (16 KiB; Node stops reading there): those early bytes are then sealed in the same turn as
 * the handshake's confirm and leave with it in one write, instead of waiting for one more turn of the
 * relay's event loop (and of the skeleton's) after the leg is ready. `first` is what a front already
 * read (an HTTPS ClientHello).
 */
import type { Socket } from 'node:net';
import { codeOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { pipeBoth } from '../../shared/net/pipe-both.js';
import type { ClientEndpoints } from '../../shared/protocol/messages.js';
import type { PublicLeg } from '../io/public-legs.js';
import type { PublicStats } from './public-stats.js';

export interface TcpFrontDeps {
  open(url: string, endpoints: ClientEndpoints): Promise<PublicLeg>;
  stats: PublicStats;
  log: Logger;
}

/** The public socket's addresses: the client's, and the relay's own where it was reached. */
export function endpointsOf(socket: Socket): ClientEndpoints {
  return { src: socket.remoteAddress ?? '0.0.0.0', srcPort: socket.remotePort ?? 0, dst: socket.localAddress ?? '0.0.0.0', dstPort: socket.localPort ?? 0 };
}

/** Joins the public socket to the home server behind `url`; resolves when both sides are closed. */
export async function passThrough(socket: Socket, url: string, deps: TcpFrontDeps, first?: Buffer): Promise<void> {
  socket.pause();
  socket.read(0);
  // Small writes go out at once: a request/answer protocol through the relay must not wait on Nagle.
  socket.setNoDelay(true);
  let leg: PublicLeg;
  try {
    leg = await deps.open(url, endpointsOf(socket));
  } catch (err) {
    deps.log.debug({ publication: url, code: codeOf(err) }, 'public connection not joined');
    deps.stats.refused(url, 'unreachable');
    socket.destroy();
    return;
  }
  const bytes = () => ({ clientToServer: socket.bytesRead, serverToClient: socket.bytesWritten });
  leg.track(bytes);
  deps.stats.opened(url);
  if (first && first.length > 0) leg.stream.write(first);
  leg.finished(await pipeBoth(socket, leg.stream));
  deps.stats.closed(url, bytes());
}
