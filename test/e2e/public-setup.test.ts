/**
 * What a fresh public connection waits for (issue 16, setup latency): the skeleton connects to the home
 * server while the relay's handshake is still under way, not after it, yet writes nothing to it before
 * the confirm.
 */
import test from 'ava';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { connect as netConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { secureInitiator } from '../../shared/crypto/secure-stream.js';
import { silentLogger } from '../../shared/log.js';
import { serveStream } from '../../skeleton/io/serve-stream.js';
import { stateReaches } from '../helpers/state-wait.js';
import { listenLocal, newSecret, server } from '../helpers/world.js';

/** Both ends of one loopback TCP connection, half-open allowed (as the relay's and skeleton's legs are). */
async function socketPair(t: { teardown(fn: () => void): void }): Promise<{ relaySide: Socket; skeletonSide: Socket }> {
  const listener = createServer({ allowHalfOpen: true });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const relaySide = netConnect({ host: '127.0.0.1', port: (listener.address() as AddressInfo).port, allowHalfOpen: true });
  const [skeletonSide] = await accepted;
  listener.close();
  t.teardown(() => {
    relaySide.destroy();
    skeletonSide.destroy();
  });
  return { relaySide, skeletonSide };
}

/** A home server that records, per connection, the bytes it got and whether it saw the connection close. */
async function recordingHome(t: Parameters<typeof listenLocal>[0]) {
  const conns: { bytes: Buffer[]; closed: boolean }[] = [];
  const { port } = await listenLocal(t, (socket) => {
    const conn = { bytes: [] as Buffer[], closed: false };
    conns.push(conn);
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      conn.bytes.push(chunk);
      socket.write(chunk);
    });
    socket.on('end', () => socket.end());
    socket.once('close', () => { conn.closed = true; });
  });
  return { port, conns };
}

test('a public stream: the skeleton connects to the home server before the relay has sent any handshake message, and the first bytes arrive only after the confirm', async (t) => {
  const home = await recordingHome(t);
  const { relaySide, skeletonSide } = await socketPair(t);
  const legKey = randomBytes(32);
  const served = serveStream(skeletonSide, Buffer.alloc(0), server('home-web', home.port, newSecret()), silentLogger(), { publicLeg: legKey, targetTimeoutMs: 5000 });
  // Nothing written by the relay yet: the home connection exists all the same, and is empty.
  t.true(await stateReaches(() => home.conns.length === 1), 'the home server got its connection before message 1');
  t.is(home.conns[0]!.bytes.length, 0);
  const stream = await secureInitiator(relaySide, { psk: legKey, serverId: 'home-web', earlyData: true });
  stream.end('hello home');
  let back = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) back += chunk as string;
  t.is(back, 'hello home');
  t.is(Buffer.concat(home.conns[0]!.bytes).toString(), 'hello home');
  t.is(home.conns.length, 1);
  await served;
});

test('a public stream whose handshake fails: the home connection opened early is closed without a byte written to it', async (t) => {
  const home = await recordingHome(t);
  const { relaySide, skeletonSide } = await socketPair(t);
  const served = serveStream(skeletonSide, Buffer.alloc(0), server('home-web', home.port, newSecret()), silentLogger(), { publicLeg: randomBytes(32), targetTimeoutMs: 5000 });
  t.true(await stateReaches(() => home.conns.length === 1));
  // Another key: message 1 does not decrypt at the skeleton.
  const err = await t.throwsAsync(secureInitiator(relaySide, { psk: randomBytes(32), serverId: 'home-web' }));
  t.is((err as { code?: string }).code, 'ERR_E2E_HANDSHAKE_FAILED');
  await served;
  t.true(await stateReaches(() => home.conns[0]!.closed), 'the early home connection was closed');
  t.is(home.conns[0]!.bytes.length, 0);
});
