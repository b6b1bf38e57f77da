/** Byte sources and sinks for end-to-end data tests: deterministic, fast, checksummed. */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable, type Duplex } from 'node:stream';

/** `total` pseudo-random bytes (AES-256-CTR keystream of `seed`), in 64 KiB chunks. */
export function patternStream(total: number, seed: string): Readable {
  const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16));
  const zeros = Buffer.alloc(64 * 1024);
  let left = total;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, zeros.length);
      left -= n;
      this.push(cipher.update(zeros.subarray(0, n)));
    },
  });
}

/**
 * Checksums everything a stream yields until its end. Reads with 'data' events, not `for await`: the
 * async iterator destroys a duplex when it ends, which would cut the other direction short.
 */
export function sha256Of(readable: NodeJS.ReadableStream): Promise<{ hex: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    readable.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    readable.once('end', () => resolve({ hex: hash.digest('hex'), bytes }));
    readable.once('error', reject);
  });
}

export async function expectedSha256(total: number, seed: string): Promise<string> {
  return (await sha256Of(patternStream(total, seed))).hex;
}

/** Writes all of `payload`, half-closes, and collects everything the other side sends until its end. */
export function sendAndCollect(stream: Duplex, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
    stream.end(payload);
  });
}

/** Resolves once `stream` has yielded at least `bytes` bytes (counting every 'data' event, none missed). */
export function received(stream: NodeJS.ReadableStream, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const onData = (chunk: Buffer): void => {
      got += chunk.length;
      if (got < bytes) return;
      stream.off('data', onData);
      stream.off('error', reject);
      resolve();
    };
    stream.on('data', onData);
    stream.once('error', reject);
  });
}
