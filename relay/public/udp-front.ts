/**
 * A udp publication's port (`udp://:PORT`): every public source address and port is a flow. A new flow
 * passes the front door like a TCP connection (the relay-wide per-source caps and rate, then the
 * publication's allow/deny lists, rate and `max-conns`, which so caps its flows), holds its admissions
 * while it lives, and gets a leg to the home server like a public TCP connection: the relay runs the
 * end-to-end handshake with the skeleton (public-leg key), so the path to home carries ciphertext only,
 * and the datagrams travel in it as records (shared/udp/datagram-codec.ts). A flow ends after `idleMs`
 * without a datagram from its source (which may be forged: the server's answers alone do not keep it);
 * a full leg drops datagrams (counted) instead of queueing them. The
 * flow rules are shared/udp/flow-table.ts; the skeleton gives each flow a UDP socket of its own.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { codeOf } from '../../shared/errors.js';
import { LogLimiter, limitedLine } from '../../shared/log-limiter.js';
import type { Logger } from '../../shared/log.js';
import { DatagramFlow } from '../../shared/net/datagram-flow.js';
import { DatagramPump, SHARED_SOCKET_BUFFER } from '../../shared/net/datagram-pump.js';
import type { ClientEndpoints } from '../../shared/protocol/messages.js';
import { DEFAULT_UDP_IDLE_MS, FlowTable, type Flow, type FlowTotals } from '../../shared/udp/flow-table.js';
import type { PublicationRecord } from '../core/publication-registry.js';
import type { PublicLeg } from '../io/public-legs.js';
import { DEFAULT_FRONT_DOOR_LIMITS, type Admission } from './front-door.js';
import { TokenBucket } from '../core/token-bucket.js';
import type { PublicDoor } from './public-door.js';
import type { PublicStats } from './public-stats.js';

/**
 * A full publication lets go of a flow for a new source: one whose source sent a single datagram and has
 * been silent a second, else one silent ten (shared/udp/flow-table.ts, stalest()).
 */
export const EVICT_AFTER = { oneShotMs: 1000, quietMs: 10_000 };

export interface UdpFrontDeps {
  open(url: string, endpoints: ClientEndpoints): Promise<PublicLeg>;
  publication(url: string): PublicationRecord | undefined;
  door: PublicDoor;
  stats: PublicStats;
  log: Logger;
}

export interface UdpFrontOptions {
  host: string;
  /** New flows per second, after a burst of twice that (FrontDoorLimits.udpFlowRate). */
  flowRate?: number;
  idleMs?: number;
  maxFlows?: number;
  now?: () => number;
}

export interface UdpFront {
  readonly socket: UdpSocket;
  /** Ends the flows idle for idleMs (the timer calls it; tests call it with their own clock). */
  sweep(): void;
  totals(): FlowTotals;
  close(): void;
}

/** A public flow holds its front-door admissions (per source, per publication) until it ends. */
class PublicFlow extends DatagramFlow {
  constructor(source: RemoteInfo, readonly admissions: Admission[]) {
    super(source);
  }

  /** Ends the flow and gives its admissions back (once, however many ways it ends). */
  override end(): void {
    super.end();
    for (const a of this.admissions.splice(0)) if (a.ok) a.release();
  }
}

export function createUdpFront(url: string, deps: UdpFrontDeps, opts: UdpFrontOptions): UdpFront {
  const now = opts.now ?? Date.now;
  // Only the public source keeps its flow alive (its address may be forged: shared/udp/flow-table.ts).
  const maxFlows = opts.maxFlows ?? DEFAULT_FRONT_DOOR_LIMITS.udpMaxFlows;
  const table = new FlowTable<PublicFlow>({ idleMs: opts.idleMs ?? DEFAULT_UDP_IDLE_MS, maxFlows, aliveBy: 'inbound' });
  const lines = new LogLimiter();
  const socket = createSocket({ type: isIPv6(opts.host) ? 'udp6' : 'udp4', recvBufferSize: SHARED_SOCKET_BUFFER, sendBufferSize: SHARED_SOCKET_BUFFER });
  let closed = false;

  const gone = (flow: Flow<PublicFlow>): void => {
    if (table.get(flow.key) === flow) table.remove(flow.key);
    flow.value.end();
  };

  const opened = (flow: Flow<PublicFlow>, leg: PublicLeg): void => {
    const f = flow.value;
    leg.track(() => ({ clientToServer: flow.bytesIn, serverToClient: flow.bytesOut }));
    deps.stats.opened(url);
    const pump = new DatagramPump(leg.stream);
    pump.on('datagram', (d) => {
      table.outbound(flow, d.length, now());
      if (!closed) socket.send(d, f.source.port, f.source.address);
    });
    pump.once('close', (code) => {
      gone(flow);
      const bytes = { clientToServer: flow.bytesIn, serverToClient: flow.bytesOut };
      // The leg is finished once its stream is closed, so a clean end reaches the skeleton first.
      const finish = (): void => {
        leg.finished(code ? { error: code } : {});
        deps.stats.closed(url, bytes);
      };
      if (leg.stream.destroyed) finish();
      else leg.stream.once('close', finish);
    });
    if (f.ended) {
      pump.close();
      return;
    }
    for (let dropped = f.opened(pump); dropped > 0; dropped--) table.drop(flow);
  };

  const arrive = (source: RemoteInfo): PublicFlow | undefined => {
    const pub = deps.publication(url);
    const admissions = pub ? deps.door.arriveDatagram(source.address, pub) : undefined;
    return admissions ? new PublicFlow(source, admissions) : undefined;
  };
  const rate = opts.flowRate ?? DEFAULT_FRONT_DOOR_LIMITS.udpFlowRate;
  const newFlows = new TokenBucket(2 * rate, rate, Date.now());

  socket.on('message', (datagram, source) => {
    if (closed) return;
    const key = `${source.address}:${source.port}`;
    let flow = table.get(key);
    const created = flow === undefined;
    if (!flow) {
      // A new source: the front door first (caps, rate, allow/deny), then the publication's flow table.
      const fresh = arrive(source);
      if (!fresh) return;
      // Full: a flow whose source went silent (EVICT_AFTER) gives way. Either
      // way the publication's budget of new flows is spent last: a source refused above, or one the
      // full table refuses below, costs it nothing.
      const stalest = table.size >= maxFlows ? table.stalest(now(), EVICT_AFTER) : undefined;
      if ((table.size < maxFlows || stalest) && !newFlows.tryTake(Date.now())) {
        fresh.end();
        deps.door.refusedDatagram(source.address, url, 'flow-rate');
        return;
      }
      if (stalest) {
        gone(stalest);
        deps.stats.refused(url, 'evicted');
      }
      const admission = table.admit(key, now(), () => fresh);
      if ('refused' in admission) {
        fresh.end();
        deps.stats.refused(url, 'publication-cap');
        limitedLine(lines, 'cap', now(), (extra) => deps.log.warn({ publication: url, maxFlows: admission.maxFlows, ...extra }, 'public udp flow refused: the publication has as many flows as allowed'));
        return;
      }
      flow = admission.flow;
    }
    if (flow.value.send(datagram)) table.inbound(flow, datagram.length, now());
    else table.drop(flow);
    if (!created) return;
    const local = socket.address();
    deps.open(url, { src: source.address, srcPort: source.port, dst: local.address, dstPort: local.port }).then(
      (leg) => opened(flow, leg),
      (err: unknown) => {
        gone(flow);
        deps.log.debug({ publication: url, code: codeOf(err) }, 'public udp flow not joined');
        deps.stats.refused(url, 'unreachable');
      },
    );
  });
  socket.on('error', (err) => deps.log.debug({ publication: url, code: (err as NodeJS.ErrnoException).code }, 'public udp socket error'));

  const sweep = (): void => {
    for (const flow of table.expire(now())) flow.value.end();
  };
  const timer = setInterval(sweep, table.sweepEveryMs);
  timer.unref();
  return {
    socket,
    sweep,
    totals: () => table.totals(),
    close: () => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      for (const flow of [...table.values()]) {
        table.remove(flow.key);
        flow.value.end();
      }
      socket.close();
    },
  };
}
