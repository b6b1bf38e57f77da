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
import { Agent, type ClientRequest, type ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { BurrowError } from '../../shared/errors.js';
import type { Socket } from 'node:net';

export type OpenStream = () => Promise<Duplex>;

/** Node's Agent.addRequest, which its type declarations leave out. */
type AddRequest = (this: Agent, req: ClientRequest, options: ClientRequestArgs) => void;
const addRequest = (Agent.prototype as unknown as { addRequest: AddRequest }).addRequest;

export class RouteAgent extends Agent {
  readonly #open: OpenStream;
  #opened = 0;
  /** Requests that arrived while the stream was being opened (a pipelining client): they wait for it. */
  readonly #waiting: [ClientRequest, ClientRequestArgs][] = [];
  #opening = false;
  #destroyed = false;
  /** Every stream this agent was handed, until it closes: destroy() ends them all, even one still opening. */
  readonly #streams = new Set<Duplex>();

  constructor(open: OpenStream) {
    super({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1, maxTotalSockets: 1, scheduling: 'lifo' });
    this.#open = open;
  }

  /** Upstream streams opened so far (the first request, and again after one closed). */
  get opened(): number {
    return this.#opened;
  }

  /**
   * Node's agent counts a stream only once it is open, so a request arriving while the first one's
   * stream is still opening would open a second: hold it until then, keeping "at most one" strict.
   */
  addRequest(req: ClientRequest, options: ClientRequestArgs): void {
    if (this.#destroyed) return void req.destroy(closedError());
    if (this.#opening) this.#waiting.push([req, options]);
    else addRequest.call(this, req, options);
  }

  override createConnection(_options: ClientRequestArgs, callback: (err: Error | null, stream: Duplex) => void): undefined {
    // Node's agent opens anew for requests still queued after destroy(): no stream outlives its client.
    if (this.#destroyed) return void process.nextTick(callback, closedError(), undefined);
    this.#opened++;
    this.#opening = true;
    const settle = (err: Error | null, stream?: Duplex): void => {
      this.#opening = false;
      callback(err, stream as Duplex);
      // With the stream open (and busy), Node's agent queues these on it; after a failure, the next opens anew.
      for (const [req, options] of this.#waiting.splice(0)) this.addRequest(req, options);
    };
    // new Promise: an open() that throws instead of rejecting still ends as this request's 502.
    new Promise<Duplex>((resolve) => resolve(this.#open())).then(
      (stream) => {
        if (this.#destroyed) {
          stream.destroy();
          return settle(closedError());
        }
        this.#streams.add(stream);
        stream.once('close', () => this.#streams.delete(stream));
        settle(null, socketShape(stream));
      },
      (err: Error) => settle(err),
    );
    return undefined;
  }

  /**
   * Closes the stream for good; requests still waiting for it fail (their clients get a 502). Node's own
   * destroy() keeps its queued requests and would open a new stream for them: they are dropped here.
   */
  override destroy(): void {
    this.#destroyed = true;
    const requests = this.requests as unknown as Record<string, ClientRequest[] | undefined>;
    const queued = Object.values(requests).flatMap((list) => list ?? []);
    for (const key of Object.keys(requests)) delete requests[key];
    for (const req of [...this.#waiting.splice(0).map(([r]) => r), ...queued]) req.destroy(closedError());
    super.destroy();
    for (const stream of this.#streams) stream.destroy();
  }

  override keepSocketAlive(socket: Socket): boolean {
    // A stream the home server half-closed cannot carry another request.
    if (socket.destroyed || !socket.writable) return false;
    const kept: unknown = super.keepSocketAlive(socket);
    return kept !== false;
  }
}

function closedError(): BurrowError {
  return new BurrowError('ERR_CONNECTION_CLOSED', 'upstream agent closed');
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
