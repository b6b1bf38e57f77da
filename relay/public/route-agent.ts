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
 * Node's agent expects net.Socket methods that a broker stream (a plain Duplex) lacks: setKeepAlive,
 * ref/unref, setTimeout. keepSocketAlive and reuseSocket are overridden to do without them.
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
    this.#open().then(
      (stream) => callback(null, stream),
      (err: Error) => callback(err, undefined as unknown as Duplex),
    );
    return undefined;
  }

  override keepSocketAlive(socket: Socket): boolean {
    // A stream the peer half-closed cannot carry another request.
    return !socket.destroyed && socket.writable;
  }

  override reuseSocket(_socket: Socket, _req: unknown): void {
    // Nothing to re-ref: a broker stream holds no event-loop reference of its own to drop or restore.
  }
}
