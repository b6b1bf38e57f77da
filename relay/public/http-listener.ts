/**
 * The shared HTTP port wired to the broker: each public connection passes the front door on arrival;
 * the HTTP front (http-front.ts) routes each request by its Host; each upstream it opens passes the
 * publication's own rules, then gets a channel of the publication's tunnel to the home server. The audit
 * line and counters are per upstream stream; its bytes are the HTTP bytes the relay wrote to and read
 * from it (the front parses and rewrites HTTP, so there is no single public byte count per publication).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { BurrowError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { PublicationRegistry } from '../core/publication-registry.js';
import type { PublicChannel } from '../io/public-tunnels.js';
import { duplexPair } from '../../shared/net/duplex-pair.js';
import type { ClientEndpoints } from '../../shared/protocol/messages.js';
import type { Admission } from './front-door.js';
import { createHttpFront, type HttpFront } from './http-front.js';
import type { PublicDoor } from './public-door.js';
import { guardSocket } from './public-socket.js';
import type { PublicStats, RefusalReason } from './public-stats.js';

export interface HttpListenerDeps {
  door: PublicDoor;
  stats: PublicStats;
  publications: PublicationRegistry;
  /** A channel to the home server behind an http publication (relay/io/public-tunnels.ts). */
  channels(url: string, endpoints: ClientEndpoints): Promise<PublicChannel>;
  log: Logger;
  headTimeoutMs: number;
}

export function startHttpFront(deps: HttpListenerDeps): { server: Server; front: HttpFront; refusals: () => Partial<Record<RefusalReason, number>> } {
  const { door, stats, publications, channels, log } = deps;
  /** Each connection's arrival, until its first request head is complete. */
  const arrivals = new WeakMap<Socket, Admission & { ok: true }>();
  let local = { address: '0.0.0.0', port: 0 };
  const front = createHttpFront({
    log, headTimeoutMs: deps.headTimeoutMs,
    headRead: (socket) => arrivals.get(socket)?.headRead(),
    resolve: (host) => {
      const pub = publications.resolveHost('http', host);
      return pub ? { key: pub.url, forwarded: pub.rules.forwarded === true } : undefined;
    },
    recentlyGone: (host) => publications.recentlyGone('http', host, Date.now()),
    open: async (route, client, busy) => {
      const pub = publications.get(route.key);
      if (!pub) throw new BurrowError('ERR_UNKNOWN_SERVER');
      const admission = door.route(client.address, pub);
      if (!admission.ok) throw new BurrowError(admission.reason === 'denied' ? 'ERR_PUBLISH_NOT_ALLOWED' : 'ERR_LIMIT');
      let channel;
      try {
        channel = await channels(pub.url, { src: client.address, srcPort: client.port, dst: local.address, dstPort: local.port });
      } catch (err) {
        admission.release();
        stats.refused(pub.url, 'unreachable');
        throw err;
      }
      stats.opened(pub.url);
      // The upstream stream the HTTP agent speaks on; its other end is the channel's local side.
      const [upstream, channelSide] = duplexPair();
      const bytes = () => ({ clientToServer: upstream.bytesSent, serverToClient: upstream.bytesReceived });
      void channel.carry(channelSide, bytes, busy).catch(() => upstream.destroy()).finally(() => {
        admission.release();
        stats.closed(pub.url, bytes());
      });
      return upstream;
    },
  });
  const server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
    if (!guardSocket(socket, log)) return;
    const source = socket.remoteAddress!;
    const arrival = door.arrive(source, 'http');
    if (!arrival.ok) return void socket.destroy();
    arrivals.set(socket, arrival);
    socket.once('close', () => arrival.release());
    front.handle(socket);
  });
  server.once('listening', () => {
    const address = server.address();
    if (address && typeof address === 'object') local = { address: address.address, port: address.port };
  });
  const refusals = (): Partial<Record<RefusalReason, number>> => {
    const s = front.stats();
    return { 'unknown-host': s.notFound, 'gone-for-now': s.goneForNow, 'bad-head': s.badRequest, 'head-timeout': s.headTimeouts, 'pipeline-flood': s.pipelineFloods };
  };
  return { server, front, refusals };
}
