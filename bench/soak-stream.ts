/**
 * One soak stream: connect to the forwarder, send `size` bytes of a fresh AES-CTR keystream paced by a
 * window of unanswered bytes, and check every echoed byte against the same keystream as it arrives, so
 * corruption is caught even on a stream that is later cut. Never rejects: the outcome says what happened.
 */
import { createCipheriv, randomBytes, type Cipher } from 'node:crypto';
import { connect } from 'node:net';

export type Outcome =
  | { kind: 'ok'; bytes: number }
  | { kind: 'failed'; reason: string; echoed: number }
  | { kind: 'corrupted'; at: number };

const WINDOW = 256 * 1024;
const CHUNK = 64 * 1024;

function keystream(key: Buffer): Cipher {
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
}

export function runStream(port: number, size: number, timeoutMs: number): Promise<Outcome> {
  const key = randomBytes(32);
  const source = keystream(key);
  const expected = keystream(key);
  let sent = 0;
  let echoed = 0;
  let corruptAt: number | undefined;
  let error: string | undefined;
  let ended = false;
  let timedOut = false;
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, timeoutMs);
    let waitingDrain = false;
    const pump = (): void => {
      if (socket.destroyed || socket.writableEnded || socket.connecting) return;
      while (!waitingDrain && sent < size && sent - echoed < WINDOW) {
        const n = Math.min(CHUNK, size - sent);
        sent += n;
        if (!socket.write(source.update(Buffer.alloc(n)))) waitingDrain = true;
      }
      if (sent === size) socket.end();
    };
    socket.once('connect', pump);
    socket.on('drain', () => {
      waitingDrain = false;
      pump();
    });
    socket.on('data', (chunk: Buffer) => {
      const want = expected.update(Buffer.alloc(chunk.length));
      if (corruptAt === undefined && !want.equals(chunk)) {
        let i = 0;
        while (i < chunk.length && chunk[i] === want[i]) i++;
        corruptAt = echoed + i;
        socket.destroy();
        return;
      }
      echoed += chunk.length;
      if (echoed > size) {
        corruptAt = size;
        socket.destroy();
        return;
      }
      pump();
    });
    socket.once('end', () => {
      ended = true;
      if (!socket.writableEnded) socket.destroy();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error ??= err.code ?? 'socket error';
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (corruptAt !== undefined) return resolve({ kind: 'corrupted', at: corruptAt });
      if (ended && echoed === size && sent === size) return resolve({ kind: 'ok', bytes: size });
      const why = timedOut ? 'timeout' : echoed === 0 ? 'closed before any echo' : 'cut mid-stream';
      resolve({ kind: 'failed', reason: error ? `${why} (${error})` : why, echoed });
    });
  });
}

/** A size between 1 byte and `max`, log-uniform, so small and large streams both come up often. */
export function randomSize(max: number): number {
  return Math.max(1, Math.floor(Math.exp(Math.random() * Math.log(max))));
}
