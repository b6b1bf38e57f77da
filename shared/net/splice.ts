/**
 * Joins two sockets: flushes what each side had already buffered exactly once, then pipes both ways
 * with backpressure and half-close. An error on either side resets both. Byte counts come from the
 * sockets' own counters, so there is no JavaScript work per chunk.
 */
import type { Socket } from 'node:net';
import { resetSocket } from './reset-socket.js';

export interface SpliceResult {
  /** Bytes carried a -> b and b -> a, leftovers included. */
  aToB: number;
  bToA: number;
  /** The first socket error code, if the splice ended by an error or idle timeout. */
  error?: string;
  durationMs: number;
}

export interface SpliceOptions {
  /** Bytes read from a (or b) before the splice that still belong to the other side. */
  aLeftover?: Buffer;
  bLeftover?: Buffer;
  /** Destroy both sides after this long with no traffic either way; 0 disables. */
  idleMs?: number;
  now?: () => number;
}

export interface SpliceBytes {
  aToB: number;
  bToA: number;
}

/** Bytes carried each way so far, leftovers included; read it while the splice runs or after. */
export function spliceCounter(a: Socket, b: Socket, opts: Pick<SpliceOptions, 'aLeftover' | 'bLeftover'> = {}): () => SpliceBytes {
  const aRead0 = a.bytesRead - (opts.aLeftover?.length ?? 0);
  const bRead0 = b.bytesRead - (opts.bLeftover?.length ?? 0);
  return () => ({ aToB: a.bytesRead - aRead0, bToA: b.bytesRead - bRead0 });
}

export function splice(a: Socket, b: Socket, opts: SpliceOptions = {}): Promise<SpliceResult> {
  const now = opts.now ?? Date.now;
  const started = now();
  const counted = spliceCounter(a, b, opts);
  let error: string | undefined;
  let open = 2;
  return new Promise((resolve) => {
    const finish = (): void => {
      if (--open > 0) return;
      resolve({ ...counted(), durationMs: now() - started, ...(error ? { error } : {}) });
    };
    const fail = (err: NodeJS.ErrnoException | string): void => {
      error ??= typeof err === 'string' ? err : (err.code ?? 'ERR_SOCKET');
      // A cut is a reset on both legs: a reset (or timeout) on one never reaches the other as a clean end.
      resetSocket(a);
      resetSocket(b);
    };
    for (const s of [a, b]) {
      s.on('error', fail);
      s.once('close', finish);
      if (opts.idleMs) {
        s.setTimeout(opts.idleMs);
        s.once('timeout', () => fail('ERR_IDLE_TIMEOUT'));
      }
    }
    if (opts.aLeftover?.length) b.write(opts.aLeftover);
    if (opts.bLeftover?.length) a.write(opts.bLeftover);
    a.pipe(b);
    b.pipe(a);
    // A side already gone before the splice began takes the other with it.
    if (a.destroyed || b.destroyed) fail('ERR_CONNECTION_CLOSED');
  });
}
