/**
 * Pipes two duplex streams into each other with backpressure and half-close (each side's end becomes
 * the other's end). An error on either resets both (a cut, never a clean end). Resolves once both have closed.
 */
import type { Duplex } from 'node:stream';
import { BurrowError } from '../errors.js';
import { resetSocket } from './reset-socket.js';

export interface PipeResult {
  error?: string;
}

export function pipeBoth(a: Duplex, b: Duplex): Promise<PipeResult> {
  let error: string | undefined;
  let open = 2;
  return new Promise((resolve) => {
    const closed = (): void => {
      if (--open === 0) resolve(error ? { error } : {});
    };
    // A cut is a reset on both sides (where the stream can be reset): a reader never takes it for a whole stream.
    const fail = (err: Error & { code?: string }): void => {
      error ??= err.code ?? 'ERR_STREAM';
      resetSocket(a);
      resetSocket(b);
    };
    for (const s of [a, b]) {
      s.on('error', fail);
      if (s.closed) closed();
      else s.once('close', closed);
    }
    a.pipe(b);
    b.pipe(a);
    if (a.destroyed || b.destroyed) fail(new BurrowError('ERR_CONNECTION_CLOSED', 'closed before piping'));
  });
}
