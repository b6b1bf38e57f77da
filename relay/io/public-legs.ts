/**
 * The runtime's side of legs to home servers: the core joins a public request to a skeleton data
 * connection and the relay runs the end-to-end handshake on it (keyed with the session's public-leg key,
 * so the network between relay and home sees ciphertext only). A leg is either a `TunnelLeg`, which
 * carries all public tcp, https and http connections of a publication as channels (public-tunnels.ts),
 * or a `PublicLeg`, the plaintext stream of one udp flow, whose front says when it is done, with its byte
 * counts, for the audit line.
 */
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { secureInitiator, secureTunnel } from '../../shared/crypto/secure-stream.js';
import { Tunnel } from '../../shared/tunnel/tunnel.js';
import { PUBLIC_TUNNEL_WINDOWS } from '../../shared/tunnel/channel-credit.js';

/**
 * What a public connection may send on its channel before the home server accepted it: the skeleton
 * holds that for a target still connecting (at most 16 MiB over a tunnel, else it cuts the tunnel), and
 * at most 256 connects run at once per tunnel, so 32 KiB each keeps one publication's public from
 * cutting the tunnel for everybody. A request head or a ClientHello fits.
 */
export const PUBLIC_PRE_OPEN_BYTES = 32 * 1024;
import { BurrowError, codeOf, type ErrorCode } from '../../shared/errors.js';
import type { ClientEndpoints } from '../../shared/protocol/messages.js';
import type { ConnId, RelayCommand, RelayEvent } from '../core/relay-events.js';
import type { DirectionBytes } from './live-streams.js';
import type { RelayConnection } from './relay-connection.js';

export interface PublicLeg {
  /** Plaintext both ways with the home server. */
  readonly stream: Duplex;
  /** The front's byte counts (public to home is clientToServer); read for the admin API and the audit line. */
  track(bytes: () => DirectionBytes): void;
  /** The front is done with this leg (both sides closed, or `error`). Idempotent. */
  finished(result?: { error?: string }): void;
  /** Bytes on the leg's own socket (ciphertext between relay and skeleton), for fronts that cannot count plaintext. */
  wireBytes(): DirectionBytes;
}

/** A public stream as it ended, for the audit line. */
export interface PublicEnd {
  stream: number;
  url: string;
  source: string;
  server: string;
  user: string;
  start: Date;
  bytes: DirectionBytes;
  error?: string;
}

/**
 * A public tunnel: one leg to the home server that carries many public connections as channels
 * (public-tunnels.ts), so a public connection costs a frame each way instead of a leg and a handshake.
 */
export interface TunnelLeg {
  readonly tunnel: Tunnel;
  readonly url: string;
  readonly server: string;
  readonly user: string;
  /** The skeleton's session: the tunnel carries new connections only while the publication routes there. */
  readonly sid: string;
  /** Each channel's open frame carries its public client's endpoints (the server asked for PROXY headers). */
  readonly proxy: boolean;
}

interface Waiter {
  url: string;
  kind: 'stream' | 'tunnel';
  resolve: (leg: PublicLeg | TunnelLeg) => void;
  reject: (err: BurrowError) => void;
  /** Set once running: cuts the leg (its stream or tunnel) with `code`. */
  cut?: (code: ErrorCode) => void;
}

type Splice = Extract<RelayCommand, { type: 'splice' }>;

export interface PublicLegHost {
  nextConn(): ConnId;
  dispatch(event: RelayEvent): void;
  connection(id: ConnId): RelayConnection | undefined;
  /** A public stream is running: register it with the live streams and the drain. */
  started(stream: number, info: { server: string; user: string; start: Date; bytes: () => DirectionBytes; cut: () => void }, done: Promise<void>): void;
  ended(end: PublicEnd): void;
}

export class PublicLegs {
  readonly #waiting = new Map<ConnId, Waiter>();

  constructor(private readonly host: PublicLegHost) {}

  /** Asks the core for the home server behind `url`; rejects with the core's code (ERR_SERVER_UNREACHABLE, ERR_LIMIT...). */
  open(url: string, endpoints: ClientEndpoints): Promise<PublicLeg> {
    return this.#ask(url, endpoints, 'stream') as Promise<PublicLeg>;
  }

  /**
   * As `open`, for a tunnel whose channels carry public connections; `endpoints` are those of the
   * connection that asked first (the core's source guard and the Bind's PROXY flag go by them).
   */
  openTunnel(url: string, endpoints: ClientEndpoints): Promise<TunnelLeg> {
    return this.#ask(url, endpoints, 'tunnel') as Promise<TunnelLeg>;
  }

  #ask(url: string, endpoints: ClientEndpoints, kind: Waiter['kind']): Promise<PublicLeg | TunnelLeg> {
    const conn = this.host.nextConn();
    return new Promise((resolve, reject) => {
      this.#waiting.set(conn, { url, kind, resolve, reject });
      this.host.dispatch({ type: 'public-open', conn, url, source: endpoints.src, endpoints });
    });
  }

  owns(conn: ConnId): boolean {
    return this.#waiting.has(conn);
  }

  /** The core closed a public connection: a waiting open fails with its reason; a running leg is cut. */
  close(conn: ConnId, reason: ErrorCode | 'ok'): void {
    const waiter = this.#waiting.get(conn);
    if (!waiter) return;
    if (waiter.cut) {
      // With an error: whoever pipes it (pipeBoth, an HTTP agent, a tunnel's channels) then cuts the public side too.
      waiter.cut(reason === 'ok' ? 'ERR_CONNECTION_CLOSED' : reason);
      return;
    }
    this.#waiting.delete(conn);
    waiter.reject(new BurrowError(reason === 'ok' ? 'ERR_CONNECTION_CLOSED' : reason));
    queueMicrotask(() => this.host.dispatch({ type: 'closed', conn }));
  }

  /** The core joined a public connection to a skeleton data connection: run the handshake, hand the leg over. */
  splice(cmd: Splice & { public: NonNullable<Splice['public']> }): void {
    const waiter = this.#waiting.get(cmd.client);
    const skeleton = this.host.connection(cmd.skeleton);
    if (!waiter || !skeleton) {
      skeleton?.socket.destroy();
      if (waiter) this.close(cmd.client, 'ERR_SERVER_UNREACHABLE');
      return;
    }
    const leftover = skeleton.detach();
    if (waiter.kind === 'tunnel') return this.#tunnel(cmd, waiter, skeleton.socket, leftover);
    secureInitiator(skeleton.socket, { psk: cmd.public.legKey.reveal(), serverId: cmd.server, leftover, earlyData: true }).then(
      (stream) => this.#running(cmd, waiter, stream, () => ({ clientToServer: skeleton.socket.bytesWritten, serverToClient: skeleton.socket.bytesRead })),
      (err: unknown) => {
        skeleton.socket.destroy();
        this.close(cmd.client, codeOf(err));
      },
    );
  }

  /** A tunnel leg: its handshake, then the tunnel; the core's connection closes with it. */
  #tunnel(cmd: Splice & { public: NonNullable<Splice['public']> }, waiter: Waiter, socket: Socket, leftover: Buffer): void {
    secureTunnel(socket, { psk: cmd.public.legKey.reveal(), serverId: cmd.server, leftover }).then(
      (link) => {
        const tunnel = new Tunnel(link, 'initiator', { windows: PUBLIC_TUNNEL_WINDOWS, preOpenBytes: PUBLIC_PRE_OPEN_BYTES });
        waiter.cut = (code) => tunnel.destroy(code);
        tunnel.once('close', () => {
          this.#waiting.delete(cmd.client);
          this.host.dispatch({ type: 'closed', conn: cmd.client });
        });
        waiter.resolve({ tunnel, url: cmd.public.url, server: cmd.server, user: cmd.user, sid: cmd.public.sid, proxy: cmd.public.proxy });
      },
      (err: unknown) => {
        socket.destroy();
        this.close(cmd.client, codeOf(err));
      },
    );
  }

  #running(cmd: Splice & { public: NonNullable<Splice['public']> }, waiter: Waiter, stream: Duplex, wireBytes: () => DirectionBytes): void {
    waiter.cut = (code) => stream.destroy(new BurrowError(code));
    const start = new Date();
    let bytes: () => DirectionBytes = () => ({ clientToServer: 0, serverToClient: 0 });
    let settle: () => void = () => undefined;
    const done = new Promise<void>((resolve) => { settle = resolve; });
    let over = false;
    // Cut with an error, so the front piping it cuts the public side too (an operator's close, a shutdown).
    this.host.started(cmd.stream, { server: cmd.server, user: cmd.user, start, bytes: () => bytes(), cut: () => stream.destroy(new BurrowError('ERR_CONNECTION_CLOSED')) }, done);
    (waiter.resolve as (leg: PublicLeg) => void)({
      stream,
      wireBytes,
      track: (b) => { bytes = b; },
      finished: (result = {}) => {
        if (over) return;
        over = true;
        stream.destroy();
        this.#waiting.delete(cmd.client);
        this.host.dispatch({ type: 'closed', conn: cmd.client });
        this.host.ended({
          stream: cmd.stream, url: cmd.public.url, source: cmd.public.source, server: cmd.server, user: cmd.user, start, bytes: bytes(),
          ...(result.error ? { error: result.error } : {}),
        });
        settle();
      },
    });
  }
}
