/**
 * Network tools for the adversarial suite: a recording (and optionally tampering) TCP forwarder to put
 * between a peer and the relay, raw sockets from a chosen loopback address, and frame readers that
 * await events instead of sleeping.
 */
import type { ExecutionContext } from 'ava';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { FrameDecoder } from '../../shared/protocol/codec.js';
import { BurrowError } from '../../shared/errors.js';
import { FRAME_LIMITS } from '../../shared/protocol/messages.js';

/** Resolves when the socket has closed, for whatever reason: unlike events.once, never rejects on 'error'. */
export function closedOf(socket: Socket): Promise<void> {
  return socket.destroyed && socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

/** What one forwarded connection carried. */
export interface Capture {
  /** Peer -> relay chunks, in order. */
  up: Buffer[];
  /** Relay -> peer chunks, in order (after any tampering: what the peer received). */
  down: Buffer[];
  /** The forwarder's own port towards the relay: the address the relay sees for this connection. */
  upstreamLocalPort: number | undefined;
  closed: Promise<void>;
}

export interface Forwarder {
  port: number;
  captures: Capture[];
  /** Every byte in both directions of every connection so far. */
  all(): Buffer;
}

/**
 * Decides what the peer receives for the `index`-th relay -> peer frame on the `conn`-th connection:
 * return [frame] to pass it, [] to drop it, [f, f] to duplicate it, or altered bytes. Only for
 * connections that never carry a spliced stream (data after a join is not framed).
 */
export type DownTamper = (conn: number, index: number, frame: Buffer) => Buffer[];

/** A TCP forwarder on 127.0.0.1:0 to 127.0.0.1:targetPort that records everything; dials from `localAddress`. */
export async function recordingForwarder(
  t: ExecutionContext, targetPort: number, opts: { localAddress?: string; tamperDown?: DownTamper } = {},
): Promise<Forwarder> {
  const captures: Capture[] = [];
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (inbound) => {
    const index = captures.length;
    const outbound = connect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    const capture: Capture = {
      up: [], down: [], upstreamLocalPort: undefined,
      closed: Promise.all([closedOf(inbound), closedOf(outbound)]).then(() => undefined),
    };
    captures.push(capture);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    outbound.once('connect', () => { capture.upstreamLocalPort = outbound.localPort; });
    inbound.on('data', (c: Buffer) => {
      capture.up.push(c);
      outbound.write(c);
    });
    inbound.on('end', () => outbound.end());
    const tamper = opts.tamperDown;
    const decoder = new FrameDecoder(0xffffffff);
    let frames = 0;
    outbound.on('data', (c: Buffer) => {
      const out = tamper ? decoder.push(c).flatMap((body) => tamper(index, frames++, frameOf(body))) : [c];
      for (const piece of out) {
        capture.down.push(piece);
        inbound.write(piece);
      }
    });
    outbound.on('end', () => inbound.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    port: (server.address() as AddressInfo).port,
    captures,
    all: () => Buffer.concat(captures.flatMap((c) => [...c.up, ...c.down])),
  };
}

function frameOf(body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** A raw TCP connection to 127.0.0.1:port from `localAddress` (another loopback address acts as another source). */
export function rawConnect(t: ExecutionContext, port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // Not half-open: when the relay ends its side, ours ends too, so 'close' comes at once.
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    t.teardown(() => socket.destroy());
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * Frames from a socket, queued as they arrive, so none is lost when the peer sends a frame and closes at
 * once. next() yields them in order, then undefined once the socket has closed.
 */
export class FrameReader {
  readonly closed: Promise<void>;
  readonly decoder: FrameDecoder;
  readonly #queue: Buffer[] = [];
  #ended = false;
  #bad: unknown;
  #wake: (() => void) | undefined;

  constructor(readonly socket: Socket, opts: { leftover?: Buffer; maxFrame?: number } = {}) {
    this.decoder = new FrameDecoder(opts.maxFrame ?? FRAME_LIMITS.control);
    this.closed = closedOf(socket);
    socket.on('data', (c: Buffer) => this.#push(c));
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      this.#ended = true;
      this.#wake?.();
    });
    if (opts.leftover && opts.leftover.length > 0) this.#push(opts.leftover);
  }

  set maxFrame(bytes: number) {
    this.decoder.maxFrame = bytes;
  }

  send(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** The next frame body, or undefined once the connection has closed with nothing more queued. */
  async next(timeoutMs = 10_000): Promise<Buffer | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#bad) throw this.#bad;
      const body = this.#queue.shift();
      if (body) return body;
      if (this.#ended) return undefined;
      if (Date.now() >= deadline) throw new BurrowError('ERR_TIMEOUT', 'no frame from the relay');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = undefined;
          resolve();
        };
      });
    }
  }

  /** Every frame until the connection closes. */
  async rest(): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (let body = await this.next(); body; body = await this.next()) out.push(body);
    return out;
  }

  #push(chunk: Buffer): void {
    try {
      this.#queue.push(...this.decoder.push(chunk));
    } catch (err) {
      this.#bad = err;
      this.socket.destroy();
    }
    this.#wake?.();
  }
}

/** A raw connection to the relay from a chosen address, and the frames it answers. */
export class RawPeer {
  readonly reader: FrameReader;
  /** Every byte the relay sent, in order. */
  readonly received: Buffer[] = [];

  constructor(readonly socket: Socket, maxFrame: number = FRAME_LIMITS.control) {
    socket.on('data', (c: Buffer) => this.received.push(c));
    this.reader = new FrameReader(socket, { maxFrame });
  }

  static async open(t: ExecutionContext, port: number, localAddress?: string): Promise<RawPeer> {
    return new RawPeer(await rawConnect(t, port, localAddress));
  }

  get closed(): Promise<void> {
    return this.reader.closed;
  }

  next(timeoutMs?: number): Promise<Buffer | undefined> {
    return this.reader.next(timeoutMs);
  }

  send(bytes: Buffer): void {
    this.reader.send(bytes);
  }
}
