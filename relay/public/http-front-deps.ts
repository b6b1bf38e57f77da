/** What the public HTTP front needs from the relay: routing, a way to the home server, a logger. */
import type { Duplex } from 'node:stream';
import type { Logger } from '../../shared/log.js';

export interface HttpRoute {
  /** Publication key for metrics and logs, e.g. 'http://www.home.example.net'. */
  key: string;
  /** Add X-Forwarded-For / -Proto / -Host and RFC 7239 Forwarded, replacing the client's (see forwarded-headers.ts). */
  forwarded: boolean;
}

export interface PublicClient {
  address: string;
  port: number;
}

export interface HttpFrontDeps {
  /** Lower-cased host name without port -> the publication serving it, or undefined (404). */
  resolve(host: string): HttpRoute | undefined;
  /** A name nobody serves now but that was published a moment ago (its skeleton restarting): 503 with Retry-After, not 404. */
  recentlyGone?(host: string): boolean;
  /**
   * A fresh byte stream to the home server of `route` for this public client (plaintext HTTP/1.1 flows
   * over it). Rejects (a BurrowError) when the server is offline or unreachable: the client gets a 502.
   * `busy` says whether the public connection has a request under way (an upstream stream is then work
   * in flight even while no byte moves: a stopping relay does not cut it as idle).
   */
  open(route: HttpRoute, client: PublicClient, busy?: () => boolean): Promise<Duplex>;
  log: Logger;
  /** Told each time a request head on this public socket is complete (routed or not): the door stops counting it as reading its head. */
  headRead?(socket: import('node:net').Socket): void;
  /** The request head must be complete within this long (slowloris), else the connection is cut. Default 10 s. */
  headTimeoutMs?: number;
  /** Largest request head in bytes; bigger ones get 431 and a close. Default 16 KiB. */
  maxHeaderSize?: number;
  /** An idle keep-alive connection (no request under way) closes after this long. Default 5 s. */
  keepAliveTimeoutMs?: number;
  /** A connection with no bytes either way for this long is cut, even mid-response. Default 120 s; 0 disables. */
  idleTimeoutMs?: number;
  /** Requests one connection may carry; the last one's response says `Connection: close`. Default 1000. */
  maxRequestsPerConnection?: number;
  /** The clock of the refusal log (tests drive it by hand). Default Date.now. */
  now?: () => number;
}
