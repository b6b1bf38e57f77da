/** `client stdio`: one stream on standard input and output, for ssh's ProxyCommand and the like. */
import type { Duplex, Readable, Writable } from 'node:stream';

/** Resolves when both directions have finished; rejects on a stream error. */
export function pumpStdio(stream: Duplex, input: Readable, output: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending = 2;
    const finished = (): void => {
      if (--pending === 0) resolve();
    };
    stream.on('error', reject);
    input.on('error', reject);
    input.pipe(stream);
    stream.pipe(output);
    // Our input ended (ssh closed its side): finish the stream's writable side, half-close.
    stream.once('finish', finished);
    stream.once('end', finished);
  });
}
