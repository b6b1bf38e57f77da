/**
 * Cutting a connection (shared/net/reset-socket.ts) always closes it: a TCP socket whose end() is still
 * being flushed cannot be reset (libuv refuses the RST then) and must be destroyed instead, or Node never
 * closes its handle and the process cannot exit (a full test run hung on "Failed to exit" this way).
 */
import test from 'ava';
import { once } from 'node:events';
import { resetSocket } from '../../shared/net/reset-socket.js';
import { pair } from '../helpers/loopback.js';

test('a socket cut while its end() is still being flushed closes all the same', async (t) => {
  const { a } = await pair(t);
  a.end();
  resetSocket(a);
  // Without the fix there is no 'close' at all and this worker cannot exit: ava's timeout reports it.
  await once(a, 'close');
  t.true(a.destroyed);
});

test('an open socket is reset: its peer sees ECONNRESET, not an end', async (t) => {
  const { a, b } = await pair(t);
  const seen = new Promise<string>((resolve) => {
    b.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    b.once('end', () => resolve('end'));
  });
  resetSocket(a);
  t.is(await seen, 'ECONNRESET');
});
