/**
 * A local port forward: every connection accepted on HOST:PORT becomes a channel of one shared
 * end-to-end tunnel to the server (or, with `separateStreams`, its own relay stream). Failures close
 * that one local connection and are logged with their code.
 */
import { resetSocket } from '../../shared/net/reset-socket.js';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { codeOf, isErrorCode, type ErrorCode } from '../../shared/errors.js';
import { listenOn } from '../../shared/net/listen-on.js';
import type { Logger } from '../../shared/log.js';
import { pipeBoth } from '../../shared/net/pipe-both.js';
import type { Redacted } from '../../shared/redacted.js';
import type { BurrowClient } from '../index.js';
import { isRetryable, TunnelSource } from './tunnel-source.js';
import { ServerOutage } from '../core/server-outage.js';
import { openPatiently } from './patient-open.js';
import { DRAIN_IDLE_MS, IdleSweep, type StreamCounts } from '../../shared/net/idle-sweep.js';

/** How long a local connection may wait for a server (or relay) that has just gone away: a restart heals in seconds. */
export const OPEN_WAIT_MS = 10_000;

export interface ForwarderStats {
  active: number;
  total: number;
  failed: number;
  /** Bytes from the local apps (the clients) to the server, and back. */
  bytesClientToServer: number;
  bytesServerToClient: number;
  /** A UDP forwarder (whose streams are flows): datagrams dropped under congestion, and flows refused by its cap. */
  dropped?: number;
  refused?: number;
}

/** How one forwarded connection ended: served, failed (counted in `failed`), or cancelled by the app. */
export type StreamOutcome = 'ok' | 'failed' | 'cancelled';

/** Times one connection is carried on again after a stopping skeleton refused its channel. */
const MAX_SHUTDOWN_RETRIES = 3;


export interface Forwarder {
  address: AddressInfo;
  stats(): ForwarderStats;
  /**
   * Stops listening at once. With `drainMs` (a graceful stop: the CLI's --drain), running connections
   * may finish within it: one silent for a second that awaits no answer is cut, as is what is left at
   * the end; then the tunnel ends. Without, every connection is cut at once. Resolves with whether all
   * finished in time and how many were cut.
   */
  close(opts?: { drainMs?: number }): Promise<{ drained: boolean; cut: number }>;
}

export async function startForwarder(opts: {
  client: BurrowClient; serverId: string; secret: Redacted<Buffer>; host: string; port: number; log: Logger;
  onStreamEnd?: (outcome: StreamOutcome, code?: string) => void;
  /** One relay stream (and handshake) per connection instead of channels of one tunnel. */
  separateStreams?: boolean;
  /** The server was found away at start (and the user warned): refusals are part of that outage. */
  unavailable?: ErrorCode;
}): Promise<Forwarder> {
  // A server (or relay) away for a moment makes connections wait; one away for longer refuses them, with
  // one warning per outage, not per connection. Away at start (the user was warned): refuse at once.
  const outage = new ServerOutage(OPEN_WAIT_MS);
  if (opts.unavailable) outage.failed(opts.unavailable, Date.now() - OPEN_WAIT_MS);
  const ended = (outcome: StreamOutcome, code?: string): void => {
    if (outcome === 'failed') {
      done.failed++;
      const verdict = outage.failed(isErrorCode(code) ? code : 'ERR_INTERNAL', Date.now());
      // 'new': local connections are refused until a stream opens again; 'ongoing': more of the same outage.
      if (verdict === 'new') opts.log.warn({ server: opts.serverId, code, outage: verdict }, 'could not open stream');
      else opts.log.debug({ server: opts.serverId, code, outage: verdict }, 'could not open stream');
    } else if (outcome === 'ok') {
      const over = outage.served();
      if (over) opts.log.info({ server: opts.serverId, code: over.code, refused: over.refused }, 'server reachable again; serving');
    } else if (outcome === 'cancelled') {
      opts.log.debug({ server: opts.serverId, code }, 'stream cancelled by the local app');
    }
    opts.onStreamEnd?.(outcome, code);
  };
  const tunnels = opts.separateStreams ? undefined : new TunnelSource(() => opts.client.tunnel(opts.serverId, { secret: opts.secret }), opts.log);
  if (tunnels) opts.client.onGoodbye(() => tunnels.drain());
  /** Local connections running, each with whether it is waiting (on a slow reader, or for an answer): a draining close() is patient with those. */
  const live = new Map<Socket, () => boolean>();
  /** Told each time a local connection closes (a draining close() waits for none to be left). */
  const emptied = new Set<() => void>();
  const done = { total: 0, failed: 0, bytesClientToServer: 0, bytesServerToClient: 0 };
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (local) => {
    live.set(local, () => local.writableLength > 0);
    done.total++;
    local.setNoDelay(true);
    // An app that resets its connection before the server's first byte (wrk at the end of a run, a
    // port scanner) cancelled its stream: that is not the tunnel failing. A half-close is not a reset:
    // the app still waits for the answer.
    let cancelled = false;
    local.on('error', () => {
      if (local.bytesWritten === 0) cancelled = true;
      local.destroy();
    });
    local.once('close', () => {
      live.delete(local);
      for (const check of [...emptied]) check();
      done.bytesClientToServer += local.bytesRead;
      done.bytesServerToClient += local.bytesWritten;
    });
    const failedToOpen = (err: unknown): void => {
      ended(cancelled || local.destroyed ? 'cancelled' : 'failed', codeOf(err));
      local.destroy();
    };
    if (tunnels) {
      const carry = (attempt: number): void => {
        openPatiently(() => tunnels.openChannel(local), local, outage).then(async (channel) => {
          // The app spoke last (its request awaits the answer), or bytes wait on a slow reader.
          if (live.has(local)) live.set(local, () => channel.blocked || channel.halfClosed || channel.lastFromLocal === true);
          const result = await channel.settled;
          // Refused by a skeleton that is stopping, before the app said anything: carried on a new tunnel.
          if (isRetryable(result, local) && attempt < MAX_SHUTDOWN_RETRIES) return carry(attempt + 1);
          // Not opened: refused by the server's target, or the tunnel went away first.
          if (!result.opened && result.code) {
            if (!local.destroyed) resetSocket(local);
            ended(cancelled ? 'cancelled' : 'failed', result.code);
          } else {
            opts.log.debug({ server: opts.serverId, channel: channel.id, ...(result.code ? { error: result.code } : {}) }, 'stream closed');
            ended('ok', result.code);
          }
        }, failedToOpen);
      };
      carry(0);
      return;
    }
    openPatiently(() => opts.client.open(opts.serverId, { secret: opts.secret, earlyData: true }), local, outage).then(
      async (stream) => {
        // The app spoke last (its request awaits the answer), or bytes wait on a slow reader.
        let appSpokeLast = false;
        local.on('data', () => { appSpokeLast = true; });
        stream.on('data', () => { appSpokeLast = false; });
        if (live.has(local)) live.set(local, () => appSpokeLast || local.writableLength > 0 || stream.writableLength > 0 || local.readableEnded !== stream.readableEnded);
        const result = await pipeBoth(local, stream);
        // With early data a refusal (the target is down) arrives as the stream's first error.
        if (result.error && local.bytesWritten === 0) ended(cancelled ? 'cancelled' : 'failed', result.error);
        else {
          opts.log.debug({ server: opts.serverId, ...result }, 'stream closed');
          ended('ok', result.error);
        }
      },
      failedToOpen,
    );
  });
  const address = await listenOn(server, opts.port, opts.host, 'forwarder');
  return {
    address,
    stats: () => {
      let toServer = done.bytesClientToServer;
      let toClient = done.bytesServerToClient;
      for (const s of live.keys()) {
        toServer += s.bytesRead;
        toClient += s.bytesWritten;
      }
      return { active: live.size, total: done.total, failed: done.failed, bytesClientToServer: toServer, bytesServerToClient: toClient };
    },
    close: async (closeOpts = {}) => {
      const listening = new Promise<void>((resolve) => server.close(() => resolve()));
      const result = await drainLive(live, emptied, closeOpts.drainMs ?? 0);
      // A cut is a connection the app saw fail: worth a line at the default level.
      if (result.cut > 0) opts.log.warn(result, 'forwarder stopped; connections still running were cut');
      else opts.log.info(result, 'forwarder stopped');
      // The tunnel's authenticated end, answered, before the session goes (the relay then audits it as ok).
      await tunnels?.close();
      await listening;
      return result;
    },
  };
}

/**
 * Waits up to `drainMs` for the running local connections to end, cutting (a reset) those silent for
 * DRAIN_IDLE_MS unless they wait on a slow reader or for an answer (shared/net/idle-sweep.ts), and at
 * the end whatever is left.
 */
async function drainLive(live: Map<Socket, () => boolean>, emptied: Set<() => void>, drainMs: number): Promise<{ drained: boolean; cut: number }> {
  let cut = 0;
  const cutOne = (s: Socket): void => {
    cut++;
    resetSocket(s);
  };
  if (drainMs > 0 && live.size > 0) {
    const idle = new IdleSweep<Socket>();
    const sweep = (): void => {
      const counts = [...live].map(([s, waiting]): [Socket, StreamCounts] => [s, { toServer: s.bytesRead, fromServer: s.bytesWritten, waiting: waiting() }]);
      for (const s of idle.sweep(counts, Date.now(), DRAIN_IDLE_MS)) cutOne(s);
    };
    sweep();
    const sweeper = setInterval(sweep, DRAIN_IDLE_MS / 4);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, drainMs); });
    const allClosed = new Promise<void>((resolve) => {
      const check = (): void => {
        if (live.size > 0) return;
        emptied.delete(check);
        resolve();
      };
      emptied.add(check);
      check();
    });
    await Promise.race([allClosed, late]);
    clearInterval(sweeper);
    clearTimeout(timer);
  }
  const drained = live.size === 0;
  for (const s of [...live.keys()]) cutOne(s);
  return { drained, cut };
}
