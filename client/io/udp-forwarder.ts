/**
 * A local UDP forward, for a server the listing says is udp: every source address and port that sends
 * to HOST:PORT is a flow, with an end-to-end stream of its own to the server (the skeleton gives it a
 * UDP socket of its own, so the server sees one peer per local source). Datagrams travel as records
 * (shared/udp/datagram-codec.ts), whole or not at all. A flow ends after `idleMs` without a datagram
 * either way; at `maxFlows` a new source is refused (one log line per cause); a flow whose stream cannot
 * keep up drops datagrams and counts them. The rules live in shared/udp/flow-table.ts; this holds the
 * socket, the streams and the sweep timer.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Duplex } from 'node:stream';
import { codeOf, type ErrorCode } from '../../shared/errors.js';
import { LogLimiter, limitedLine } from '../../shared/log-limiter.js';
import type { Logger } from '../../shared/log.js';
import { DatagramFlow } from '../../shared/net/datagram-flow.js';
import { DatagramPump, SHARED_SOCKET_BUFFER } from '../../shared/net/datagram-pump.js';
import { bindOn } from '../../shared/net/listen-on.js';
import type { Redacted } from '../../shared/redacted.js';
import { DEFAULT_UDP_IDLE_MS, FlowTable, type Flow } from '../../shared/udp/flow-table.js';
import type { BurrowClient } from '../index.js';
import type { Forwarder, ForwarderStats } from './forwarder.js';

export const DEFAULT_FORWARDER_UDP_FLOWS = 1024;

export interface UdpForwarderOptions {
  client: BurrowClient;
  serverId: string;
  secret: Redacted<Buffer>;
  host: string;
  port: number;
  log: Logger;
  idleMs?: number;
  maxFlows?: number;
  /** The clock idle times are measured with (tests advance one by hand and call sweep()). */
  now?: () => number;
}

export interface UdpForwarder extends Forwarder {
  /** Ends the flows idle for idleMs (the timer calls it every few seconds). */
  sweep(): void;
}

export async function startUdpForwarder(opts: UdpForwarderOptions): Promise<UdpForwarder> {
  const now = opts.now ?? Date.now;
  const table = new FlowTable<DatagramFlow>({ idleMs: opts.idleMs ?? DEFAULT_UDP_IDLE_MS, maxFlows: opts.maxFlows ?? DEFAULT_FORWARDER_UDP_FLOWS });
  const lines = new LogLimiter();
  const socket: UdpSocket = createSocket({ type: isIPv6(opts.host) ? 'udp6' : 'udp4', recvBufferSize: SHARED_SOCKET_BUFFER, sendBufferSize: SHARED_SOCKET_BUFFER });
  let failed = 0;
  let closed = false;

  const failedFlow = (code: ErrorCode): void => {
    failed++;
    limitedLine(lines, `failed:${code}`, now(), (extra) => opts.log.warn({ server: opts.serverId, code, ...extra }, 'udp flow could not open its stream'));
  };

  const opened = (flow: Flow<DatagramFlow>, stream: Duplex): void => {
    const f = flow.value;
    if (f.ended) {
      stream.destroy();
      return;
    }
    const pump = new DatagramPump(stream);
    pump.on('datagram', (d) => {
      table.outbound(flow, d.length, now());
      if (!closed) socket.send(d, f.source.port, f.source.address);
    });
    pump.once('close', (code) => {
      if (table.get(flow.key) === flow) table.remove(flow.key);
      f.ended = true;
      // With early data the server's refusal arrives as the stream's first error, before any datagram came back.
      if (code && flow.datagramsOut === 0) failedFlow(code);
      opts.log.debug({ server: opts.serverId, datagramsIn: flow.datagramsIn, datagramsOut: flow.datagramsOut, dropped: flow.dropped, ...(code ? { code } : {}) }, 'udp flow closed');
    });
    for (let dropped = f.opened(pump); dropped > 0; dropped--) table.drop(flow);
  };

  socket.on('message', (datagram, source) => {
    if (closed) return;
    const key = `${source.address}:${source.port}`;
    const admission = table.admit(key, now(), () => new DatagramFlow(source));
    if ('refused' in admission) {
      limitedLine(lines, 'cap', now(), (extra) => opts.log.warn({ server: opts.serverId, maxFlows: admission.maxFlows, option: '--max-udp-flows', ...extra }, 'udp flow refused: the forwarder has as many flows as allowed'));
      return;
    }
    const { flow, created } = admission;
    if (flow.value.send(datagram)) table.inbound(flow, datagram.length, now());
    else table.drop(flow);
    if (!created) return;
    opts.client.open(opts.serverId, { secret: opts.secret, earlyData: true }).then(
      (stream) => opened(flow, stream),
      (err: unknown) => {
        if (table.get(key) === flow) table.remove(key);
        flow.value.end();
        failedFlow(codeOf(err));
      },
    );
  });
  // A local app that went away (ICMP port unreachable on a send back) is no reason to stop forwarding.
  socket.on('error', (err) => opts.log.debug({ server: opts.serverId, code: (err as NodeJS.ErrnoException).code }, 'udp forwarder socket error'));

  const address = await bindOn(socket, opts.port, opts.host, 'forwarder');
  const sweep = (): void => {
    for (const flow of table.expire(now())) flow.value.end();
  };
  const timer = setInterval(sweep, table.sweepEveryMs);
  timer.unref();
  return {
    address,
    sweep,
    stats: (): ForwarderStats => {
      const t = table.totals();
      return { active: t.active, total: t.total, failed, bytesClientToServer: t.bytesIn, bytesServerToClient: t.bytesOut, dropped: t.dropped, refused: t.refused };
    },
    // Datagrams have no answer under way to wait for: each flow ends (its authenticated end) at once.
    close: () => new Promise<{ drained: boolean; cut: number }>((resolve) => {
      closed = true;
      clearInterval(timer);
      for (const flow of [...table.values()]) {
        table.remove(flow.key);
        flow.value.end();
      }
      socket.close(() => resolve({ drained: true, cut: 0 }));
    }),
  };
}
