/**
 * One TCP connection to an echo server (through a tunnel or not), with a bounded round trip: write N
 * bytes, wait until N more bytes came back. Errors keep their code (ECONNRESET, ETIMEDOUT, ...) so the
 * drivers can report exactly what failed.
 */
import { connect, type Socket } from 'node:net';

export class EchoConn {
  #received = 0;
  #wake: (() => void) | undefined;
  #error: Error | undefined;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#received += chunk.length;
      this.#wake?.();
    });
    socket.on('error', (err) => {
      this.#error ??= err;
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#error ??= codeError('ECLOSED', 'closed by peer');
      this.#wake?.();
    });
  }

  static open(port: number, timeoutMs: number): Promise<EchoConn> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(codeError('ETIMEDOUT_CONNECT', `no connection in ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new EchoConn(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      });
    });
  }

  /** Writes `size` bytes and resolves once as many came back. */
  roundTrip(size: number, timeoutMs: number): Promise<void> {
    const target = this.#received + size;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(codeError('ETIMEDOUT_ECHO', `echo not back in ${timeoutMs} ms`)), timeoutMs);
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        if (err) reject(err);
        else resolve();
      };
      this.#wake = () => {
        if (this.#received >= target) finish();
        else if (this.#error) finish(this.#error);
      };
      if (this.#error) return finish(this.#error);
      this.socket.write(Buffer.alloc(size, 0x61));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

function codeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : String((err as Error | undefined)?.message ?? err);
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
