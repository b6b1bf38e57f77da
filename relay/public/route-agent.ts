/**
 * The upstream side of ONE public connection towards ONE publication: an http.Agent holding at most one
 * keep-alive stream to that home server, opened through the broker on first use.
 *
 * Why one agent per public connection and never a shared pool: an upstream stream carries the requests
 * of exactly one public client. Sharing it between clients would let one client's malformed or
 * ambiguous request desynchronise the stream and capture the next client's request (request
 * smuggling); and a home server that reads the PROXY header at the start of its stream would credit
 * every later request on it to the first client's address.
 *
 * Node's agent calls net.Socket methods that a broker stream (a plain Duplex) may lack: setKeepAlive,
 * ref/unref, setTimeout. Missing ones become no-ops on the stream (socketShape), so the agent's own
 * keep-alive bookkeeping (which also removes its per-reuse 'error' listener) runs unchanged.
 */
import { Agent, type ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

export type OpenStream = () => Promise<Duplex>;

export class RouteAgent extends Agent {
  readonly #open: OpenStream;
  #opened = 0;

  constructor(open: OpenStream) {
    super({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1, maxTotalSockets: 1, scheduling: 'lifo' });
    this.#open = open;
  }

  /** Upstream streams opened so far (the first request, and again after one closed). */
  get opened(): number {
    return this.#opened;
  }

  override createConnection(_options: ClientRequestArgs, callback: (err: Error | null, stream: Duplex) => void): undefined {
    this.#opened++;
    // new Promise: an open() that throws instead of rejecting still ends as this request's 502.
    new Promise<Duplex>((resolve) => resolve(this.#open())).then(
      (stream) => callback(null, socketShape(stream)),
      (err: Error) => callback(err, undefined as unknown as Duplex),
    );
    return undefined;
  }

  override keepSocketAlive(socket: Socket): boolean {
    // A stream the home server half-closed cannot carry another request.
    if (socket.destroyed || !socket.writable) return false;
    const kept: unknown = super.keepSocketAlive(socket);
    return kept !== false;
  }
}

const SOCKET_METHODS = ['ref', 'unref', 'setKeepAlive', 'setNoDelay', 'setTimeout'] as const;

/**
 * `stream` with no-op stand-ins for the net.Socket methods Node's agent calls, where it has none; a real
 * socket gets TCP_NODELAY (small heads and responses must not wait for delayed ACKs).
 */
export function socketShape(stream: Duplex): Duplex {
  const target = stream as unknown as Record<string, unknown>;
  if (typeof target.setNoDelay === 'function') (stream as Socket).setNoDelay(true);
  for (const name of SOCKET_METHODS) {
    if (typeof target[name] !== 'function') target[name] = () => stream;
  }
  return stream;
}
