/**
 * The runtime's side of public streams: a front (a tcp publication's port, the shared HTTP or HTTPS
 * port) asks for the home server behind a publication and gets a `PublicLeg`, the plaintext stream to
 * that server, once the core has joined it to a skeleton data connection and the relay has run the
 * end-to-end handshake on it (keyed with the session's public-leg key, so the network between relay and
 * home sees ciphertext only). The front says when it is done, with its byte counts, for the audit line.
 */
import type { Duplex } from 'node:stream';
import { secureInitiator } from '../../shared/crypto/secure-stream.js';
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

interface Waiter {
  url: string;
  resolve: (leg: PublicLeg) => void;
  reject: (err: BurrowError) => void;
  leg?: Duplex;
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
    const conn = this.host.nextConn();
    return new Promise((resolve, reject) => {
      this.#waiting.set(conn, { url, resolve, reject });
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
    if (waiter.leg) {
      // With an error: whoever pipes it (pipeBoth, an HTTP agent) then cuts the public side too.
      waiter.leg.destroy(new BurrowError(reason === 'ok' ? 'ERR_CONNECTION_CLOSED' : reason));
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
    secureInitiator(skeleton.socket, { psk: cmd.public.legKey.reveal(), serverId: cmd.server, leftover, earlyData: true }).then(
      (stream) => this.#running(cmd, waiter, stream, () => ({ clientToServer: skeleton.socket.bytesWritten, serverToClient: skeleton.socket.bytesRead })),
      (err: unknown) => {
        skeleton.socket.destroy();
        this.close(cmd.client, codeOf(err));
      },
    );
  }

  #running(cmd: Splice & { public: NonNullable<Splice['public']> }, waiter: Waiter, stream: Duplex, wireBytes: () => DirectionBytes): void {
    waiter.leg = stream;
    const start = new Date();
    let bytes: () => DirectionBytes = () => ({ clientToServer: 0, serverToClient: 0 });
    let settle: () => void = () => undefined;
    const done = new Promise<void>((resolve) => { settle = resolve; });
    let over = false;
    // Cut with an error, so the front piping it cuts the public side too (an operator's close, a shutdown).
    this.host.started(cmd.stream, { server: cmd.server, user: cmd.user, start, bytes: () => bytes(), cut: () => stream.destroy(new BurrowError('ERR_CONNECTION_CLOSED')) }, done);
    waiter.resolve({
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
