/**
 * The skeleton's UDP flows, across all its udp servers and relays: each end-to-end stream a client opens
 * to a udp server is one flow with a UDP socket of its own toward the server (so the server sees one peer
 * per client flow, as it would without burrow). Capped per skeleton (`maxFlows`: one more is refused with
 * ERR_LIMIT before the socket exists, and logged once per cause); a flow silent both ways for `idleMs` is
 * closed, so a client that went quiet cannot hold sockets for ever. The rules are in
 * shared/udp/flow-table.ts; this holds the sockets and the sweep timer.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Duplex } from 'node:stream';
import { BurrowError } from '../../shared/errors.js';
import { LogLimiter, limitedLine } from '../../shared/log-limiter.js';
import type { Logger } from '../../shared/log.js';
import { DatagramPump, FLOW_SOCKET_BUFFER } from '../../shared/net/datagram-pump.js';
import { DEFAULT_UDP_IDLE_MS, FlowTable, type Flow, type FlowTotals } from '../../shared/udp/flow-table.js';
import type { SkeletonServer } from './skeleton-server.js';

export const DEFAULT_SKELETON_UDP_FLOWS = 4096;
/** Datagrams handed to a UDP socket and not yet sent; past this the stream is paused (the client side drops). */
const MAX_PENDING_SENDS = 64;

interface SkeletonFlow {
  socket: UdpSocket;
  /** Closes the socket once, however many ways the flow ends at once. */
  closeSocket: () => void;
  /** A PROXY protocol v2 header (DGRAM) for the flow's first datagram toward the server, if it asked for one. */
  proxyHeader?: Buffer;
  pump?: DatagramPump;
}

/** A flow admitted and its socket ready: `serve` runs it until either side ends it. */
export interface OpenFlow {
  serve(stream: Duplex): Promise<void>;
  /** The stream never came (the handshake failed after accept): free the place and the socket. */
  abandon(): void;
}

/** Who a flow came from: a burrow client that proved the server's secret, or a relay's public port. */
export type FlowOrigin = 'client' | 'public';

export class UdpFlows {
  readonly #table: FlowTable<SkeletonFlow>;
  readonly #refusals = new LogLimiter();
  /**
   * Public flows come from sources nobody authenticated, which anyone can forge: they may hold at most
   * half of the skeleton's flows, and those of one server a quarter, so a flood on one publication
   * leaves room for the other publications and for the flows of burrow clients.
   */
  readonly #publicByServer = new Map<string, number>();
  #publicTotal = 0;
  readonly #sweep: NodeJS.Timeout;
  #next = 0;

  constructor(private readonly log: Logger, opts: { idleMs?: number; maxFlows?: number; now?: () => number } = {}) {
    this.#table = new FlowTable({ idleMs: opts.idleMs ?? DEFAULT_UDP_IDLE_MS, maxFlows: opts.maxFlows ?? DEFAULT_SKELETON_UDP_FLOWS });
    this.now = opts.now ?? Date.now;
    this.#sweep = setInterval(() => this.sweep(), this.#table.sweepEveryMs);
    this.#sweep.unref();
  }

  readonly now: () => number;

  /** The most public flows the skeleton holds in all, and for one server. */
  get publicShares(): { total: number; perServer: number } {
    const max = this.#table.opts.maxFlows;
    return { total: Math.max(1, Math.floor(max / 2)), perServer: Math.max(1, Math.floor(max / 4)) };
  }

  /**
   * Admits a flow for `server` and opens its socket toward it; ERR_LIMIT at the cap (and, for a public
   * flow, at its shares). `proxyHeader` goes before its first datagram.
   */
  async open(server: SkeletonServer, proxyHeader?: Buffer, origin: FlowOrigin = 'client'): Promise<OpenFlow> {
    const isPublic = origin === 'public';
    if (isPublic) {
      const shares = this.publicShares;
      const full = this.#publicTotal >= shares.total ? 'total' : (this.#publicByServer.get(server.id) ?? 0) >= shares.perServer ? 'server' : undefined;
      if (full) {
        limitedLine(this.#refusals, `public:${full}:${server.id}`, this.now(), (extra) => this.log.warn({ server: server.id, publicFlows: full === 'total' ? shares.total : shares.perServer, option: '--max-udp-flows', ...extra }, full === 'total' ? 'public udp flow refused: public flows may hold half of the skeleton\'s flows' : 'public udp flow refused: one server\'s public flows may hold a quarter of the skeleton\'s flows'));
        throw new BurrowError('ERR_LIMIT', 'public udp flows per skeleton');
      }
    }
    const key = `flow-${++this.#next}`;
    const admission = this.#table.admit(key, this.now(), () => {
      const socket = createSocket({ type: isIPv6(server.host) ? 'udp6' : 'udp4', recvBufferSize: FLOW_SOCKET_BUFFER, sendBufferSize: FLOW_SOCKET_BUFFER });
      let open = true;
      if (isPublic) this.#countPublic(server.id, 1);
      const closeSocket = (): void => {
        if (!open) return;
        open = false;
        if (isPublic) this.#countPublic(server.id, -1);
        socket.removeAllListeners('message');
        socket.close();
      };
      return { socket, closeSocket, ...(proxyHeader ? { proxyHeader } : {}) };
    });
    if ('refused' in admission) {
      limitedLine(this.#refusals, `cap:${server.id}`, this.now(), (extra) => this.log.warn({ server: server.id, maxFlows: admission.maxFlows, option: '--max-udp-flows', ...extra }, 'udp flow refused: the skeleton has as many flows as allowed'));
      throw new BurrowError('ERR_LIMIT', 'udp flows per skeleton');
    }
    const flow = admission.flow;
    const { socket, closeSocket: closed } = flow.value;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(server.port, server.host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.#table.remove(key);
      closed();
      throw new BurrowError('ERR_SERVER_UNREACHABLE', `udp target: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    return {
      abandon: () => {
        if (this.#table.remove(key)) closed();
      },
      serve: (stream) => this.#serve(flow, stream, server),
    };
  }

  async #serve(flow: Flow<SkeletonFlow>, stream: Duplex, server: SkeletonServer): Promise<void> {
    const { socket, closeSocket } = flow.value;
    if (this.#table.get(flow.key) !== flow) {
      // Swept (or closed with the skeleton) between the handshake's accept and now.
      closeSocket();
      stream.destroy();
      return;
    }
    const pump = new DatagramPump(stream);
    flow.value.pump = pump;
    let pending = 0;
    pump.on('datagram', (d) => {
      this.#table.inbound(flow, d.length, this.now());
      if (++pending >= MAX_PENDING_SENDS) pump.pause();
      const header = flow.value.proxyHeader;
      delete flow.value.proxyHeader;
      socket.send(header ? [header, d] : d, () => {
        if (--pending === MAX_PENDING_SENDS - 1) pump.resume();
      });
    });
    socket.on('message', (d) => {
      if (pump.send(d)) this.#table.outbound(flow, d.length, this.now());
      else this.#table.drop(flow);
    });
    // ICMP port unreachable and the like: the server is not there now; the flow lives on (UDP has no connection).
    socket.on('error', (err) => this.log.debug({ server: server.id, code: (err as NodeJS.ErrnoException).code }, 'udp target error'));
    return new Promise((resolve) => {
      pump.once('close', (code) => {
        this.#table.remove(flow.key);
        closeSocket();
        this.log.debug({ server: server.id, datagramsIn: flow.datagramsIn, datagramsOut: flow.datagramsOut, dropped: flow.dropped, ...(code ? { code } : {}) }, 'udp flow closed');
        resolve();
      });
    });
  }

  /** Closes the flows idle for idleMs (the timer calls it; tests call it with their own clock). */
  sweep(): void {
    for (const flow of this.#table.expire(this.now())) this.#end(flow);
  }

  totals(): FlowTotals {
    return this.#table.totals();
  }

  close(): void {
    clearInterval(this.#sweep);
    for (const flow of [...this.#table.values()]) {
      this.#table.remove(flow.key);
      this.#end(flow);
    }
  }

  #countPublic(server: string, delta: 1 | -1): void {
    this.#publicTotal += delta;
    const n = (this.#publicByServer.get(server) ?? 0) + delta;
    if (n > 0) this.#publicByServer.set(server, n);
    else this.#publicByServer.delete(server);
  }

  /** A flow already out of the table: its pump closes the socket; one not served yet closes it here. */
  #end(flow: Flow<SkeletonFlow>): void {
    if (flow.value.pump) flow.value.pump.close();
    else flow.value.closeSocket();
  }
}
