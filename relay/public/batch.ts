/**
 * One write for what one read produced: heads (strings, written as latin1 like node:http does, so a
 * header byte above 0x7f passes as it came) and body pieces joined into one buffer when small, so
 * a request or a response is one write, one sealed message on a tunnel, one segment on loopback.
 */
import type { Writable } from 'node:stream';

/** Up to this many bytes are copied into one buffer; more go out as they are, corked. */
const JOIN_LIMIT = 64 * 1024;

export function writeBatch(stream: Writable, parts: readonly (string | Buffer)[]): boolean {
  if (parts.length === 1) {
    const part = parts[0]!;
    return typeof part === 'string' ? stream.write(part, 'latin1') : stream.write(part);
  }
  const buffers = parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : part));
  let size = 0;
  for (const b of buffers) size += b.length;
  if (size <= JOIN_LIMIT) return stream.write(Buffer.concat(buffers, size));
  let ok = true;
  stream.cork();
  for (const b of buffers) ok = stream.write(b);
  stream.uncork();
  return ok;
}
