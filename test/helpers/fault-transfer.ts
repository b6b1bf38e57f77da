/**
 * A paced, checksummed transfer to an echo server, through a forwarder's local port or over a Duplex
 * (a library client's stream): the sender writes chunks of a
 * seeded pseudo-random stream and never has more than `window` bytes unanswered, so the pace is set by
 * the echoes coming back (backpressure, no timers). It can hold at a byte offset until released, which
 * lets a test prove that a stream is open and carrying data at the moment it injects a fault.
 */
import { createCipheriv, createHash, type Cipher, type Hash } from 'node:crypto';
import { connect, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface TransferOptions {
  /** A local port to connect to (a forwarder), or an open stream to use. */
  port: number | Duplex;
  host?: string;
  total: number;
  seed: string;
  /** Bytes sent and not yet echoed, at most (default 256 KiB). */
  window?: number;
  chunk?: number;
  /** Send no byte past this offset until release(). */
  holdAt?: number;
}

export interface TransferResult {
  /** Everything came back, in order, and the echo side half-closed after it. */
  intact: boolean;
  sent: number;
  echoed: number;
  /** The connection closed before the whole echo arrived. */
  cutShort: boolean;
  error?: string;
  /** Date.now() when the transfer ended either way. */
  endedAt: number;
}

function keystream(seed: string): Cipher {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16));
}

export class EchoTransfer {
  readonly socket: Duplex;
  readonly done: Promise<TransferResult>;
  #sent = 0;
  #echoed = 0;
  /** Bytes the sender may send so far (the hold). */
  #limit: number;
  #closed: Error | undefined;
  readonly #waiters = new Set<{ bytes: number; resolve: () => void; reject: (err: Error) => void }>();
  #waitingDrain = false;
  #error: string | undefined;
  readonly #source: Cipher;
  readonly #sentHash: Hash = createHash('sha256');
  readonly #echoHash: Hash = createHash('sha256');
  readonly #opts: Required<Omit<TransferOptions, 'holdAt'>> & { holdAt: number };

  constructor(opts: TransferOptions) {
    this.#opts = { host: '127.0.0.1', window: 256 * 1024, chunk: 64 * 1024, holdAt: opts.total, ...opts };
    this.#limit = opts.holdAt ?? opts.total;
    this.#source = keystream(opts.seed);
    const { port } = opts;
    this.socket = typeof port === 'number' ? connect({ port, host: this.#opts.host, allowHalfOpen: true, noDelay: true }) : port;
    this.done = new Promise((resolve) => {
      let ended = false;
      this.socket.on('data', (chunk: Buffer) => {
        this.#echoed += chunk.length;
        this.#echoHash.update(chunk);
        for (const w of this.#waiters) {
          if (this.#echoed >= w.bytes) {
            this.#waiters.delete(w);
            w.resolve();
          }
        }
        this.#pump();
      });
      this.socket.once('end', () => {
        ended = true;
        // The echo side is done: a transfer that still had bytes to send was cut short.
        if (!this.socket.writableEnded) this.socket.destroy();
      });
      this.socket.on('error', (err: NodeJS.ErrnoException) => { this.#error ??= err.code ?? err.message; });
      this.socket.once('close', () => {
        const complete = ended && this.#echoed === this.#opts.total && this.#sent === this.#opts.total;
        const intact = complete && this.#sentHash.digest('hex') === this.#echoHash.digest('hex');
        this.#closed = new Error(`${opts.seed}: the connection closed after ${this.#echoed} bytes came back (${this.#error ?? 'no error'})`);
        for (const w of this.#waiters) w.reject(this.#closed);
        this.#waiters.clear();
        resolve({
          intact, sent: this.#sent, echoed: this.#echoed, cutShort: !complete, endedAt: Date.now(), ...(this.#error ? { error: this.#error } : {}),
        });
      });
    });
    if (this.socket instanceof Socket && this.socket.connecting) this.socket.once('connect', () => this.#pump());
    else queueMicrotask(() => this.#pump());
    this.socket.on('drain', () => {
      this.#waitingDrain = false;
      this.#pump();
    });
  }

  get sent(): number {
    return this.#sent;
  }

  get echoed(): number {
    return this.#echoed;
  }

  /** Resolves once every byte up to holdAt has come back through the whole path; rejects if it closes first. */
  reached(): Promise<void> {
    return this.echoedAtLeast(this.#opts.holdAt);
  }

  /** Resolves once `bytes` have come back; rejects if the connection closes first. */
  echoedAtLeast(bytes: number): Promise<void> {
    if (this.#echoed >= bytes) return Promise.resolve();
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => this.#waiters.add({ bytes, resolve, reject }));
  }

  /** Lets the sender go on up to `bytes` (default: to the end). */
  allow(bytes = this.#opts.total): void {
    this.#limit = Math.max(this.#limit, Math.min(bytes, this.#opts.total));
    this.#pump();
  }

  release(): void {
    this.allow();
  }

  #pump(): void {
    const { total, window, chunk } = this.#opts;
    const s = this.socket;
    if (s.destroyed || s.writableEnded || (s instanceof Socket && s.connecting)) return;
    while (!this.#waitingDrain && this.#sent < total && this.#sent - this.#echoed < window) {
      const n = Math.min(chunk, this.#limit - this.#sent, total - this.#sent);
      if (n <= 0) return;
      const bytes = this.#source.update(Buffer.alloc(n));
      this.#sentHash.update(bytes);
      this.#sent += n;
      if (!s.write(bytes)) this.#waitingDrain = true;
    }
    if (this.#sent === total) s.end();
  }
}

/** Resolves with the result, or rejects if the transfer is still running after `ms` (a hang). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms); }),
  ]);
}
