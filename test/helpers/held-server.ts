/** Home servers for drain tests: one whose answer waits until the test releases it. */
import type { ExecutionContext } from 'ava';
import { listenLocal } from './world.js';

/**
 * A home server that answers a 'GET' line with `size` bytes only once `release()` is called, and echoes
 * anything else; with `banner` it speaks first ("banner\n", as SMTP and SSH servers do).
 */
export async function heldServer(t: ExecutionContext, size: number | string, opts: { banner?: boolean } = {}) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => { release = resolve; });
  let asked!: () => void;
  const gotRequest = new Promise<void>((resolve) => { asked = resolve; });
  const { port } = await listenLocal(t, (socket) => {
    socket.on('error', () => socket.destroy());
    socket.on('end', () => socket.end());
    if (opts.banner) socket.write('banner\n');
    socket.on('data', (chunk: Buffer) => {
      if (!chunk.toString().startsWith('GET')) return void socket.write(chunk);
      asked();
      void released.then(() => socket.end(typeof size === 'string' ? size : Buffer.alloc(size, 0x61)));
    });
  });
  return { port, release, gotRequest };
}
