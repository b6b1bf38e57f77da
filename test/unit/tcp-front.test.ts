/**
 * A tcp (or https) publication's public socket while its channel to the home server is being found (the
 * first connection opens the publication's tunnel): the relay reads what the public sends early (bounded
 * by the socket's high water mark), so those bytes are ready to go out with the open frame.
 */
import test from 'ava';
import { once } from 'node:events';
import { createServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { silentLogger } from '../../shared/log.js';
import type { PublicChannel } from '../../relay/io/public-tunnels.js';
import { PublicStats } from '../../relay/public/public-stats.js';
import { passThrough } from '../../relay/public/tcp-front.js';
import { stateReaches } from '../helpers/state-wait.js';

/** The relay's side of a public connection (accepted paused, as the public ports accept) and the public's. */
async function publicPair(t: { teardown(fn: () => void): void }): Promise<{ relaySide: Socket; publicSide: Socket }> {
  const listener = createServer({ allowHalfOpen: true, pauseOnConnect: true });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const publicSide = netConnect({ host: '127.0.0.1', port: (listener.address() as AddressInfo).port });
  const [relaySide] = await accepted;
  listener.close();
  relaySide.on('error', () => relaySide.destroy());
  t.teardown(() => {
    publicSide.destroy();
    relaySide.destroy();
  });
  return { relaySide, publicSide };
}

test('the public socket is read while its channel is being found, and those early bytes are the first the channel carries', async (t) => {
  const { relaySide, publicSide } = await publicPair(t);
  let found!: (channel: PublicChannel) => void;
  let carried!: (chunk: Buffer) => void;
  const first = new Promise<Buffer>((resolve) => { carried = resolve; });
  const done = passThrough(relaySide, 'tcp://:20080', {
    channel: () => new Promise<PublicChannel>((resolve) => { found = resolve; }),
    stats: new PublicStats(),
    log: silentLogger(),
  });
  publicSide.write('EHLO early');
  // The channel is not there yet, yet the relay has read the bytes off the socket.
  t.true(await stateReaches(() => relaySide.bytesRead === 'EHLO early'.length), 'the early bytes were read before the channel was found');
  found({
    carry: (local) => new Promise((resolve) => {
      local.once('data', (chunk: Buffer) => {
        carried(chunk);
        local.destroy();
      });
      local.once('close', () => resolve({}));
      local.resume();
    }),
  });
  t.is((await first).toString(), 'EHLO early');
  publicSide.destroy();
  await done;
});

test('early reading stops at the socket\'s high water mark: a public client that floods before its leg is ready waits in the kernel', async (t) => {
  const { relaySide, publicSide } = await publicPair(t);
  void passThrough(relaySide, 'tcp://:20080', { channel: () => new Promise<PublicChannel>(() => undefined), stats: new PublicStats(), log: silentLogger() });
  const flood = Buffer.alloc(4 * 1024 * 1024, 0x61);
  publicSide.write(flood);
  t.true(await stateReaches(() => relaySide.readableLength >= relaySide.readableHighWaterMark), 'the relay read up to its high water mark');
  // Node stops reading once the buffer holds the high water mark: at most one more read (64 KiB) past it.
  t.true(relaySide.readableLength < relaySide.readableHighWaterMark + 64 * 1024);
  t.true(relaySide.bytesRead < flood.length);
});
