/**
 * One public connection through to its home server: the front door admits it (or it is cut at once),
 * the relay gets a channel of the publication's public tunnel (opening the tunnel first if there is
 * none), and the public socket itself becomes the channel's local side: bytes flow both ways within
 * the channel's credit, with half-close. While the channel is being found (the first connection opens
 * the tunnel) the socket is read up to its high water mark, so those bytes leave with the open frame.
 * `first` is what a front already read (an HTTPS ClientHello):
 * it goes back in front of the socket's own bytes.
 */
import type { Socket } from 'node:net';
import { codeOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { ClientEndpoints } from '../../shared/protocol/messages.js';
import type { PublicChannel } from '../io/public-tunnels.js';
import type { PublicStats } from './public-stats.js';

export interface TcpFrontDeps {
  /** A channel to the home server behind a tcp or https publication. */
  channel(url: string, endpoints: ClientEndpoints): Promise<PublicChannel>;
  stats: PublicStats;
  log: Logger;
}

/** The public socket's addresses: the client's, and the relay's own where it was reached. */
export function endpointsOf(socket: Socket): ClientEndpoints {
  return { src: socket.remoteAddress ?? '0.0.0.0', srcPort: socket.remotePort ?? 0, dst: socket.localAddress ?? '0.0.0.0', dstPort: socket.localPort ?? 0 };
}

/** Joins the public socket to the home server behind `url`; resolves when both sides are closed. */
export async function passThrough(socket: Socket, url: string, deps: TcpFrontDeps, first?: Buffer): Promise<void> {
  // Read what the public sends while the channel is found (up to the high water mark: Node stops there).
  socket.pause();
  socket.read(0);
  // Small writes go out at once: a request/answer protocol through the relay must not wait on Nagle.
  socket.setNoDelay(true);
  let channel: PublicChannel;
  try {
    channel = await deps.channel(url, endpointsOf(socket));
  } catch (err) {
    deps.log.debug({ publication: url, code: codeOf(err) }, 'public connection not joined');
    deps.stats.refused(url, 'unreachable');
    socket.destroy();
    return;
  }
  if (socket.destroyed) return;
  const bytes = () => ({ clientToServer: socket.bytesRead, serverToClient: socket.bytesWritten });
  deps.stats.opened(url);
  if (first && first.length > 0) socket.unshift(first);
  await channel.carry(socket, bytes).catch(() => undefined);
  deps.stats.closed(url, bytes());
}
