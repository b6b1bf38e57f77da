/**
 * A tunnel at the skeleton: every channel the client opens is one connection to the server's target,
 * made only now (the client proved the secret in the tunnel's handshake). A target that refuses or
 * does not answer refuses that channel alone.
 */
import { LogLimiter, limitedLine } from '../../shared/log-limiter.js';
import type { Socket } from 'node:net';
import type { TunnelLink } from '../../shared/crypto/secure-stream.js';
import { refusalDetail } from './refusal-detail.js';
import { BurrowError, codeOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { connectTarget } from '../../shared/net/connect-target.js';
import { proxyHeader } from '../../shared/net/proxy-header.js';
import type { ClientEndpoints } from '../../shared/protocol/messages.js';
import { Tunnel } from '../../shared/tunnel/tunnel.js';
import { decodeOpenEndpoints } from '../../shared/tunnel/open-endpoints.js';
import { PUBLIC_TUNNEL_WINDOWS, type ChannelWindows } from '../../shared/tunnel/channel-credit.js';
import type { Channel } from '../../shared/tunnel/tunnel-channel.js';
import type { SkeletonServer } from './skeleton-server.js';
import type { RekeyOptions } from '../../shared/tunnel/tunnel-frame-writer.js';
import { resetLocal } from '../../shared/tunnel/tunnel-channel.js';
import type { SkeletonDrain } from './skeleton-drain.js';

/** Channels one tunnel may hold at once; more are refused with ERR_LIMIT. */
export const MAX_TUNNEL_CHANNELS = 65_536;
/**
 * Target connections one tunnel may have in progress at once, counted until each connect settles
 * (a channel reset meanwhile no longer counts as a channel, but its connect still runs); more opens
 * are refused with ERR_LIMIT, so open-and-reset cannot pile up connects to a slow target.
 */
export const MAX_TUNNEL_CONNECTING = 256;

export interface ServeTunnelOptions {
  maxConnecting?: number;
  /** How a channel reaches its target (tests inject a slow one). */
  connect?: (host: string, port: number, timeoutMs: number) => Promise<Socket>;
  rekey?: RekeyOptions;
  refusals?: LogLimiter;
  /** A public tunnel's channel windows (the skeleton's growth budget); PUBLIC_TUNNEL_WINDOWS by default. */
  publicWindows?: ChannelWindows;
  /**
   * A stopping skeleton (skeleton-drain.ts): once it drains, the tunnel takes no new channel and ends
   * once its last channel has; each channel is tracked until it ends, so an idle one can be cut.
   */
  drain?: SkeletonDrain;
}

/**
 * `client`: the one client of a burrow client's tunnel (from the Bind, for a PROXY header), or
 * 'per-channel' for a relay's public tunnel, whose open frames each carry their public client's.
 */
export function serveTunnel(
  link: TunnelLink, server: SkeletonServer, log: Logger, targetTimeoutMs: number, client?: ClientEndpoints | 'per-channel', opts: ServeTunnelOptions = {},
): Promise<void> {
  const perChannel = client === 'per-channel';
  const tunnel = new Tunnel(link, 'responder', {
    maxChannels: MAX_TUNNEL_CHANNELS, openPayloads: perChannel, ...(perChannel ? { windows: opts.publicWindows ?? PUBLIC_TUNNEL_WINDOWS } : {}),
    ...(opts.rekey ? { rekey: opts.rekey } : {}),
  });
  const maxConnecting = opts.maxConnecting ?? MAX_TUNNEL_CONNECTING;
  const connect = opts.connect ?? connectTarget;
  const started = Date.now();
  let channels = 0;
  let connecting = 0;
  const drain = opts.drain;
  // Draining: no new channel, and the authenticated end once the last one is over (the peer sees a whole tunnel).
  const endIfEmpty = (): void => {
    if (drain?.draining && tunnel.channelCount === 0) tunnel.end();
  };
  const unsubscribe = drain?.onDrain(endIfEmpty);
  // At the deadline: the channels left are reset and the tunnel's authenticated end written, so the
  // peer sees a tunnel that ended, not one cut short (ERR_STREAM_TRUNCATED).
  const noDeadline = drain?.atDeadline(() => tunnel.end());
  tunnel.on('idle', endIfEmpty);
  tunnel.on('channel', (channel) => {
    channels++;
    if (drain?.draining) {
      channel.refuse('ERR_SHUTTING_DOWN');
      return;
    }
    if (connecting >= maxConnecting) {
      channel.refuse('ERR_LIMIT');
      return;
    }
    let endpoints: ClientEndpoints | undefined;
    try {
      endpoints = perChannel ? decodeOpenEndpoints(channel.openPayload) : client;
    } catch (err) {
      // Only the relay writes these, inside the tunnel's encryption: a bad one means it is not to be trusted.
      return tunnel.fail(err instanceof BurrowError ? err : new BurrowError('ERR_MALFORMED_FRAME', 'open payload'));
    }
    connecting++;
    openTarget(channel, server, targetTimeoutMs, connect, endpoints).then((target) => {
      // Waiting: bytes wait on a slow reader, or the last data went to the home server (a request it owes an answer to).
      const counts = () => ({ toServer: target.bytesWritten, fromServer: target.bytesRead, waiting: channel.blocked || channel.halfClosed || channel.lastFromLocal === false });
      drain?.track({ counts, cut: () => resetLocal(target) }, channel.settled);
    }, (err: unknown) => {
      const code = codeOf(err);
      limitedLine(opts.refusals ?? new LogLimiter(), `refused:${server.id}:${code}`, Date.now(), (extra) => log.info({ server: server.id, channel: channel.id, code, ...refusalDetail(err, server), ...extra }, 'stream refused'));
      channel.refuse(codeOf(err));
    }).finally(() => connecting--);
  });
  return new Promise((resolve) => {
    tunnel.once('close', (code) => {
      unsubscribe?.();
      noDeadline?.();
      // A public tunnel that fails takes every public connection of a publication with it.
      const level = perChannel && code && code !== 'ERR_CONNECTION_CLOSED' ? 'warn' : 'debug';
      log[level]({ server: server.id, channels, durationMs: Date.now() - started, ...(code ? { code } : {}) }, perChannel ? 'public tunnel closed' : 'tunnel closed');
      resolve();
    });
  });
}

async function openTarget(
  channel: Channel, server: SkeletonServer, timeoutMs: number, connect: NonNullable<ServeTunnelOptions['connect']>, client?: ClientEndpoints,
): Promise<Socket> {
  // A server that expects a PROXY header must never get a stream without one.
  if (server.proxy && !client) throw new BurrowError('ERR_PROXY_NOT_ALLOWED', 'the relay sent no client address');
  const target = await connect(server.host, server.port, timeoutMs);
  if (server.proxy && client) target.write(proxyHeader(server.proxy, client));
  channel.accept(target);
  return target;
}
