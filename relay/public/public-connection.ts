/**
 * One public client connection on the shared HTTP port: its upstream agents (one per publication it
 * has asked for, see route-agent.ts) and the deadline its next request head must meet.
 *
 * Routing is per request: each request goes to the publication its own `Host` names, over this
 * connection's agent for that publication. A later request for another host therefore never travels
 * on the first host's upstream stream. (The other answer RFC 9110 allows, `421` and close, would break
 * browsers that coalesce connections; per-request routing costs one more upstream stream instead.)
 *
 * Head deadline (slowloris): armed when the connection opens and again whenever it goes idle after a
 * response; cleared when Node's parser has a complete head ('request' or 'upgrade'). Node's own
 * headersTimeout only runs on a server that listens itself, and this one is handed sockets.
 *
 * Pipelining: at most MAX_IN_FLIGHT requests are handled at once, MAX_WAITING more wait in order, and a
 * deeper flood cuts the connection. When the public socket closes, everything made for it goes: its
 * agents, their streams, its upstream requests (route-agent.ts).
 */
import type { ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HttpRoute } from './http-front-deps.js';
import { RouteAgent } from './route-agent.js';

/**
 * Requests of one connection under way at once. Node's server parses every pipelined request it has read
 * and emits them all at once; the rest wait here for a turn.
 */
export const MAX_IN_FLIGHT = 8;

/**
 * Requests that may wait for a turn. Beyond, the connection is cut (a flood: no browser pipelines this
 * deep). Pausing the socket instead does not hold: Node's server resumes it on every response written.
 */
export const MAX_WAITING = 56;

/** Agents (hence upstream streams) one public connection may hold; the least recently used goes first. */
export const MAX_ROUTES_PER_CONNECTION = 8;

export interface ConnectionHooks {
  open(route: HttpRoute): Promise<Duplex>;
  headTimeoutMs: number;
  /** The head deadline passed: the socket is being destroyed. */
  onHeadTimeout(): void;
  /** More than MAX_WAITING pipelined requests waited: the socket is being destroyed. */
  onFlood(): void;
}

export class PublicConnection {
  readonly #agents = new Map<string, RouteAgent>();
  #timer: NodeJS.Timeout | undefined;
  #active = 0;
  #upgraded = false;
  #closedDown = false;
  #draining = false;
  #inFlight = 0;
  readonly #waiting: (() => void)[] = [];
  /** Upstream requests under way for this connection: all are destroyed when the public socket closes. */
  readonly #upstream = new Set<ClientRequest>();

  constructor(readonly socket: Socket, readonly hooks: ConnectionHooks) {
    this.#arm();
    socket.once('close', () => this.#closed());
  }

  /** The agent towards `route` for this connection, created on first use. */
  agentFor(route: HttpRoute): RouteAgent {
    let agent = this.#agents.get(route.key);
    if (agent) this.#agents.delete(route.key);
    else agent = new RouteAgent(() => this.hooks.open(route));
    // A request parsed after the public socket closed gets a dead agent: it opens nothing.
    if (this.#closedDown) {
      agent.destroy();
      return agent;
    }
    this.#agents.set(route.key, agent);
    if (this.#agents.size > MAX_ROUTES_PER_CONNECTION) {
      const [oldestKey, oldest] = this.#agents.entries().next().value as [string, RouteAgent];
      this.#agents.delete(oldestKey);
      oldest.destroy();
    }
    return agent;
  }

  /** Upstream streams this connection has opened so far, over all publications. */
  get upstreamsOpened(): number {
    let n = 0;
    for (const agent of this.#agents.values()) n += agent.opened;
    return n;
  }

  /**
   * An upstream request made for this connection. Responses to pipelined requests never sent out emit no
   * 'close', so without this their upstream requests (and streams) would outlive the public client.
   */
  track(req: ClientRequest): void {
    if (this.socket.destroyed) return void req.destroy();
    this.#upstream.add(req);
    req.once('close', () => this.#upstream.delete(req));
  }

  /** A complete request head arrived; `done` fires when its response is over. */
  requestStarted(): { done: () => void } {
    this.#active++;
    this.#disarm();
    let finished = false;
    return {
      done: () => {
        if (finished) return;
        finished = true;
        if (--this.#active > 0) return;
        // Stopping: the last answer is out; the connection ends once it is flushed.
        if (this.#draining && !this.#upgraded) this.socket.destroySoon();
        else this.#arm();
      },
    };
  }

  /** Requests of this connection being handled now (not those waiting for a turn). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Runs `start` now, or once fewer than MAX_IN_FLIGHT requests of this connection are under way.
   * The returned `release` is for when its response is over (whether it started or not).
   */
  admit(start: () => void): () => void {
    let state: 'waiting' | 'running' | 'done' = 'waiting';
    const run = (): void => {
      if (state !== 'waiting') return;
      state = 'running';
      this.#inFlight++;
      start();
    };
    if (this.#inFlight < MAX_IN_FLIGHT) run();
    else if (this.#waiting.length < MAX_WAITING) this.#waiting.push(run);
    else if (!this.socket.destroyed) {
      this.hooks.onFlood();
      this.socket.destroy();
    }
    return () => {
      const was = state;
      state = 'done';
      if (was !== 'running') return;
      this.#inFlight--;
      while (this.#inFlight < MAX_IN_FLIGHT && this.#waiting.length > 0) this.#waiting.shift()!();
    };
  }

  /** A request of this connection is being handled (its answer is not over yet). */
  get busy(): boolean {
    return this.#active > 0;
  }

  /** The relay is stopping (draining): answer no new request (the caller sends 503). */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * The relay is stopping: an idle connection closes now, a busy one once the requests under way are
   * answered. An upgraded one (WebSocket) is a stream: the relay's drain of streams decides its end.
   */
  drain(): void {
    this.#draining = true;
    if (!this.#upgraded && this.#active === 0) this.socket.destroy();
  }

  /** The connection became a tunnel (WebSocket): no more heads, no more deadlines. */
  upgraded(): void {
    this.#upgraded = true;
    this.#disarm();
  }

  #arm(): void {
    if (this.#upgraded || this.socket.destroyed || this.hooks.headTimeoutMs <= 0) return;
    this.#disarm();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.hooks.onHeadTimeout();
      this.socket.destroy();
    }, this.hooks.headTimeoutMs);
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #closed(): void {
    this.#closedDown = true;
    this.#disarm();
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
    for (const req of this.#upstream) req.destroy();
    this.#upstream.clear();
    this.#waiting.length = 0;
  }
}
