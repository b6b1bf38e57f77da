/**
 * The in-memory pair the relay's HTTP front speaks to a public channel through (shared/net/duplex-pair.ts):
 * bytes cross intact and counted, a writer waits for a slow reader, half-close crosses, a destroy takes
 * the other end down, and an end that closed by itself after both directions ended does not.
 */
import test from 'ava';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { duplexPair } from '../../shared/net/duplex-pair.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('bytes cross both ways intact, half-close crosses, and each end counts what it sent and received', async (t) => {
  const [a, b] = duplexPair();
  const up = randomBytes(300_000);
  const down = randomBytes(5_000);
  const closed = Promise.all([once(a, 'close'), once(b, 'close')]);
  const gotAtB = readAll(b);
  const gotAtA = readAll(a);
  a.end(up);
  b.end(down);
  t.true((await gotAtB).equals(up));
  t.true((await gotAtA).equals(down));
  t.is(a.bytesSent, up.length);
  t.is(b.bytesReceived, up.length);
  t.is(b.bytesSent, down.length);
  t.is(a.bytesReceived, down.length);
  await closed;
});

test('a writer waits while the other end does not read: memory stays at the high water marks', async (t) => {
  const [a, b] = duplexPair();
  let written = 0;
  const chunk = Buffer.alloc(16 * 1024);
  while (a.write(chunk)) written += chunk.length;
  // Nobody reads b: what is held is b's readable buffer plus a's writable buffer, not everything offered.
  t.true(b.readableLength <= b.readableHighWaterMark + chunk.length, `b holds ${b.readableLength}`);
  t.true(a.writableLength > 0, 'the writer is told to wait');
  const drained = once(a, 'drain');
  b.resume();
  await drained;
  t.pass();
});

test('destroying one end closes the other; an end closed by itself after both directions ended leaves the other to finish reading', async (t) => {
  const [a, b] = duplexPair();
  const bClosed = once(b, 'close');
  a.destroy();
  await bClosed;
  t.true(b.destroyed);

  const [c, d] = duplexPair();
  c.end('last words');
  d.end();
  // c has sent its end and read d's: it closes by itself, and d must still deliver 'last words'.
  c.resume();
  t.is((await readAll(d)).toString(), 'last words');
});
