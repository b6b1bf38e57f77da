/**
 * One joined stream at the skeleton: the relay said which server (Bind); the client must prove that
 * server's secret in the Noise handshake before we open the local target; then bytes flow both ways.
 * A client may instead ask for a tunnel, whose channels each open the target (serve-tunnel.ts).
 *
 * A public stream (Bind `public`) is the relay's: keyed with the session's public-leg key, it is a
 * tunnel whose channels are public connections (each open frame may carry that connection's endpoints
 * for a PROXY header), or for a udp server one flow.
 */
import { resetSocket } from '../../shared/net/reset-socket.js';
import { LogLimiter, limitedLine } from '../../shared/log-limiter.js';
import type { Socket } from 'node:net';
import { secureResponder, type TunnelLink } from '../../shared/crypto/secure-stream.js';
import { refusalDetail } from './refusal-detail.js';
import { BurrowError, codeOf } from '../../shared/errors.js';
import { proxyHeader } from '../../shared/net/proxy-header.js';
import type { ClientEndpoints } from '../../shared/protocol/messages.js';
import type { Logger } from '../../shared/log.js';
import { connectTarget } from '../../shared/net/connect-target.js';
import { pipeBoth } from '../../shared/net/pipe-both.js';
import type { SkeletonServer } from './skeleton-server.js';
import { serveTunnel } from './serve-tunnel.js';
import type { OpenFlow, UdpFlows } from './udp-flows.js';
import type { RekeyOptions } from '../../shared/tunnel/tunnel-frame-writer.js';
import type { ChannelWindows } from '../../shared/tunnel/channel-credit.js';
import type { SkeletonDrain } from './skeleton-drain.js';

export interface ServeOptions {
  /** How long to wait for the local target to accept. */
  targetTimeoutMs: number;
  /** The client's address, for a server that asked for PROXY protocol headers. */
  client?: ClientEndpoints;
  /** When our sending key is replaced (default every 10 minutes and every GiB). */
  rekey?: RekeyOptions;
  /** Budget for 'stream refused' lines: a client without the secret must not be able to flood the log. */
  refusals?: LogLimiter;
  /**
   * A public stream (Bind `public`): the relay is the initiator and this is the session's public-leg key,
   * used instead of the server secret; its tunnel's channels carry their own client endpoints.
   */
  publicLeg?: Buffer;
  /** A public tunnel's channel windows (default: PUBLIC_TUNNEL_WINDOWS with no growth budget). */
  publicWindows?: ChannelWindows;
  /** The skeleton's UDP flows: a udp server's stream is one flow (required to serve udp servers). */
  udp?: UdpFlows;
  /** A stopping skeleton's drain: the stream (or the tunnel's channels) is tracked, so an idle one can be cut. */
  drain?: SkeletonDrain;
}

export async function serveStream(socket: Socket, leftover: Buffer, server: SkeletonServer, log: Logger, opts: ServeOptions): Promise<void> {
  const { targetTimeoutMs, client } = opts;
  let target: Socket | undefined;
  let tunnel: TunnelLink | undefined;
  let flow: OpenFlow | undefined;
  const udp = server.transport === 'udp';
  const started = Date.now();
  try {
    const psk = opts.publicLeg ?? server.secret?.reveal();
    // A server without a secret serves its publications only: no burrow client can prove anything to it.
    if (!psk) throw new BurrowError('ERR_UNKNOWN_SERVER', 'this server has no secret: it is reached only through its publications');
    const secure = await secureResponder(socket, {
      psk,
      serverId: server.id,
      leftover,
      ...(opts.rekey ? { rekey: opts.rekey } : {}),
      accept: async () => {
        if (udp) {
          if (!opts.udp) throw new BurrowError('ERR_INTERNAL', 'no udp flow table');
          // As for TCP: a server that expects a PROXY header never gets a flow without one (on its first datagram).
          if (server.proxy && !client) throw new BurrowError('ERR_PROXY_NOT_ALLOWED', 'the relay sent no client address');
          flow = await opts.udp.open(server, server.proxy && client ? proxyHeader('v2', client, 'dgram') : undefined, opts.publicLeg ? 'public' : 'client');
          return;
        }
        // A server that expects a PROXY header must never get a stream without one.
        if (server.proxy && !client) throw new BurrowError('ERR_PROXY_NOT_ALLOWED', 'the relay sent no client address');
        target = await connectTarget(server.host, server.port, targetTimeoutMs);
        if (target.destroyed) throw new BurrowError('ERR_SERVER_UNREACHABLE', 'the target closed during the handshake');
        if (server.proxy && client) target.write(proxyHeader(server.proxy, client));
      },
      // A udp server's streams each carry one flow's datagrams; a tunnel of TCP channels makes no sense for it.
      ...(udp ? {} : {
        tunnel: (link: TunnelLink) => {
          tunnel = link;
        },
      }),
    });
    if (tunnel) {
      // A public tunnel's channels are many public clients: each open frame names its own, the Bind none.
      const endpoints = opts.publicLeg ? 'per-channel' : client;
      await serveTunnel(tunnel, server, log, targetTimeoutMs, endpoints, {
        ...(opts.rekey ? { rekey: opts.rekey } : {}), ...(opts.refusals ? { refusals: opts.refusals } : {}),
        ...(opts.publicWindows ? { publicWindows: opts.publicWindows } : {}), ...(opts.drain ? { drain: opts.drain } : {}),
      });
      return;
    }
    if (!secure) {
      log.debug({ server: server.id }, 'secret probe answered');
      return;
    }
    // The data connection's counters: what the relay brought is for the server, what it took came from it.
    // Waiting: bytes queued that a reader has not taken, or the last data went to the server (its answer
    // is owed). Counted in plain bytes at the server's side; a UDP flow by its relay connection.
    let lastToServer = false;
    if (target) {
      // Beside the pipe's own 'data' listeners (a UDP flow reads its stream otherwise: none there).
      secure.on('data', () => { lastToServer = true; });
      target.on('data', () => { lastToServer = false; });
    }
    const waiting = (): boolean => socket.writableLength > 0 || (target?.writableLength ?? 0) > 0 || lastToServer || (target !== undefined && target.readableEnded !== secure.readableEnded);
    const counts = target
      ? () => ({ toServer: target!.bytesWritten, fromServer: target!.bytesRead, waiting: waiting() })
      : () => ({ toServer: socket.bytesRead, fromServer: socket.bytesWritten, waiting: waiting() });
    const work = { counts, cut: () => resetSocket(socket) };
    if (flow) {
      const served = flow.serve(secure);
      opts.drain?.track(work, served);
      await served;
      return;
    }
    if (!target) throw new BurrowError('ERR_INTERNAL', 'target missing after accept');
    const piped = pipeBoth(secure, target);
    opts.drain?.track(work, piped);
    const result = await piped;
    log.debug({ server: server.id, durationMs: Date.now() - started, ...(result.error ? { code: result.error } : {}) }, 'stream closed');
  } catch (err) {
    target?.destroy();
    flow?.abandon();
    socket.destroy();
    const code = codeOf(err);
    limitedLine(opts.refusals ?? new LogLimiter(), `refused:${server.id}:${code}`, Date.now(), (extra) => log.info({ server: server.id, code, ...refusalDetail(err, server), ...extra }, 'stream refused'));
  }
}
