/**
 * Pipes two duplex streams into each other with backpressure and half-close (each side's end becomes
 * the other's end). An error on either destroys both. Resolves once both have closed.
 */
import type { Duplex } from 'node:stream';
import { BurrowError } from '../errors.js';

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
    const fail = (err: Error & { code?: string }): void => {
      error ??= err.code ?? 'ERR_STREAM';
      a.destroy();
      b.destroy();
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
