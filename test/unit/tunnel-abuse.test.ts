/**
 * The tunnel against a hostile or careless peer, and its key schedule, on real loopback sockets: both
 * ends are bare Tunnels (the responder's channels handled by the test), so the peer can send frames our
 * client never would and both ends take options the product leaves at their defaults.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net, { type Socket } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { secureResponder, secureTunnel, type TunnelLink } from '../../shared/crypto/secure-stream.js';
import { CipherState } from '../../shared/crypto/noise/cipher-state.js';
import { Tunnel } from '../../shared/tunnel/tunnel.js';
import type { Channel } from '../../shared/tunnel/tunnel-channel.js';
import { FRAME, MAX_DATA } from '../../shared/tunnel/tunnel-frames.js';
import { FrameWriter } from '../../shared/tunnel/tunnel-frame-writer.js';
import { E2eReceiver } from '../../shared/transport/e2e-receiver.js';
import { E2eFrameDecoder } from '../../shared/crypto/e2e-frame-decoder.js';
import { Writable, type Duplex } from 'node:stream';
import { pair } from '../helpers/loopback.js';

const SERVER_ID = 'home-db';

/** An initiator and a responder Tunnel joined directly; the responder's channels go to `onChannel`. */
async function bareTunnels(
  t: ExecutionContext, onChannel: (channel: Channel) => void, opts: { skeleton?: ConstructorParameters<typeof Tunnel>[2]; client?: ConstructorParameters<typeof Tunnel>[2] } = {},
): Promise<{ client: Tunnel; skeleton: Tunnel; clientSocket: Socket; skeletonSocket: Socket }> {
  const psk = randomBytes(32);
  const { a, b } = await pair(t);
  let skeleton!: Tunnel;
  const responded = secureResponder(b, {
    psk, serverId: SERVER_ID, accept: async () => undefined,
    tunnel: (link: TunnelLink) => {
      skeleton = new Tunnel(link, 'responder', opts.skeleton);
      skeleton.on('channel', onChannel);
    },
  });
  const [link] = await Promise.all([secureTunnel(a, { psk, serverId: SERVER_ID }), responded]);
  const client = new Tunnel(link, 'initiator', opts.client);
  t.teardown(() => client.destroy());
  t.teardown(() => skeleton.destroy());
  return { client, skeleton, clientSocket: a, skeletonSocket: b };
}

test('a tunnel that failed opens no channel for the frames behind the bad one', async (t) => {
  const events: string[] = [];
  const { client, skeleton } = await bareTunnels(t, (channel) => events.push(`channel ${channel.id}`));
  skeleton.on('close', (code) => events.push(`close ${code}`));
  // One turn: one sealed message holding a frame on a channel never opened, then opens behind it.
  client.send(FRAME.data, 9, Buffer.from('x'));
  client.send(FRAME.open, 10);
  client.send(FRAME.open, 11);
  await once(skeleton, 'close');
  // The rest of that message was read in the same turn as the failure, so everything is recorded.
  t.deepEqual(events, ['close ERR_PROTOCOL']);
  t.is(skeleton.channelCount, 0);
});

test('a tiny data piece held for a target does not keep its whole 64 KiB message alive', async (t) => {
  const pending = new Map<number, Channel>();
  let marker!: () => void;
  const markerSeen = new Promise<void>((resolve) => (marker = resolve));
  const { client } = await bareTunnels(t, (channel) => {
    pending.set(channel.id, channel);
    if (channel.id === 3) marker();
  });
  const app = await pair(t);
  app.b.pause();
  client.openChannel(app.b); // channel 1, held at the skeleton: its target is not connected yet
  const other = await pair(t);
  other.b.pause();
  client.openChannel(other.b); // channel 2, which the peer resets at once: data for it is ignored
  client.send(FRAME.reset, 2);
  // Each sealed message (65519 bytes): one byte for channel 1, the rest on the reset channel 2, which
  // costs no window. 1 byte of window must not pin 64 KiB of memory.
  const messages = 32;
  for (let i = 0; i < messages; i++) {
    client.send(FRAME.data, 1, Buffer.of(i));
    client.send(FRAME.data, 2, Buffer.alloc(65519 - 8 - 7));
  }
  client.send(FRAME.open, 3); // read after everything above
  await markerSeen;
  const target = await pair(t);
  const written: Buffer[] = [];
  const write = target.a.write.bind(target.a) as (chunk: Buffer, cb?: (err?: Error | null) => void) => boolean;
  target.a.write = ((chunk: Buffer, cb?: (err?: Error | null) => void) => {
    written.push(chunk);
    return write(chunk, cb);
  }) as typeof target.a.write;
  pending.get(1)?.accept(target.a);
  t.is(Buffer.concat(written).length, messages);
  t.deepEqual([...Buffer.concat(written)], Array.from({ length: messages }, (_, i) => i));
  const pinned = written.reduce((n, chunk) => n + chunk.buffer.byteLength, 0);
  t.true(pinned <= messages * 8192, `${pinned} bytes pinned by ${messages} bytes of data`);
});

test('a channel opened while the tunnel is congested starts reading its app once the tunnel drains', async (t) => {
  const channels = new Map<number, Channel>();
  let second!: (channel: Channel) => void;
  const secondSeen = new Promise<Channel>((resolve) => (second = resolve));
  const { client, clientSocket } = await bareTunnels(t, (channel) => {
    channels.set(channel.id, channel);
    if (channel.id === 2) second(channel);
  });
  const first = await pair(t);
  const app = await pair(t); // app.a is the app, app.b the forwarder's accepted connection
  first.b.pause();
  app.b.pause();
  client.openChannel(first.b); // channel 1: held at the skeleton (never accepted)
  // A quarter MiB on channel 1 (within its window) fills the tunnel socket: the tunnel is congested.
  for (let i = 0; i < 4; i++) client.send(FRAME.data, 1, Buffer.alloc(MAX_DATA, 1));
  t.true(client.congested);
  client.openChannel(app.b);
  app.a.write('hello');
  await once(clientSocket, 'drain');
  t.true(app.b.readableFlowing, 'the new channel reads its app once the tunnel drained');
  if (!app.b.readableFlowing) return;
  const target = await pair(t);
  (await secondSeen).accept(target.a);
  const [got] = (await once(target.b, 'data')) as [Buffer];
  t.is(got.toString(), 'hello');
});

test('a peer that floods opens and never reads its side is cut off with ERR_LIMIT, not buffered without bound', async (t) => {
  const { client, skeleton, clientSocket } = await bareTunnels(t, () => undefined, { skeleton: { maxChannels: 0, maxBacklog: 256 * 1024 } });
  await new Promise((resolve) => setImmediate(resolve)); // the client tunnel has resumed its socket by now
  clientSocket.pause(); // the flooding client reads nothing back
  let closed = null as string | undefined | null;
  skeleton.once('close', (code) => (closed = code));
  let id = 0;
  while (closed === null && id < 4_000_000) {
    for (let i = 0; i < 20_000; i++) client.send(FRAME.open, ++id); // each is refused (ERR_LIMIT) by the skeleton
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (closed === null) await once(skeleton, 'close').then(([code]) => (closed = code as string));
  t.is(closed, 'ERR_LIMIT');
});

test('an ended tunnel whose peer never answers is cut after the grace period', async (t) => {
  const { client, skeletonSocket } = await bareTunnels(t, () => undefined, { client: { endGraceMs: 200 } });
  await new Promise((resolve) => setImmediate(resolve));
  skeletonSocket.pause(); // the skeleton never reads our end, so never answers it
  const started = Date.now();
  client.end();
  const [code] = await once(client, 'close');
  t.is(code, 'ERR_TIMEOUT');
  t.true(Date.now() - started >= 150);
});

test('both directions rekey (Noise Rekey) every few hundred KiB and a 4 MiB echo crosses dozens of key changes intact', async (t) => {
  const echo = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  t.teardown(() => echo.close());
  const echoPort = (echo.address() as { port: number }).port;
  const small = { rekey: { bytes: 256 * 1024 } };
  const { client, skeleton } = await bareTunnels(t, (channel) => {
    const target = net.connect({ port: echoPort, host: '127.0.0.1', allowHalfOpen: true }, () => channel.accept(target));
    target.on('error', () => undefined);
  }, { client: small, skeleton: small });
  const { a: app, b: local } = await pair(t);
  local.pause();
  const channel = client.openChannel(local);
  const payload = randomBytes(4 * 1024 * 1024);
  const chunks: Buffer[] = [];
  app.on('data', (c: Buffer) => chunks.push(c));
  const ended = once(app, 'end');
  app.end(payload);
  await ended;
  t.true(Buffer.concat(chunks).equals(payload));
  t.is((await channel.settled).code, undefined);
  t.true(skeleton.peerRekeys >= 10, `skeleton saw ${skeleton.peerRekeys} client rekeys`);
  t.true(client.peerRekeys >= 10, `client saw ${client.peerRekeys} skeleton rekeys`);
});

test('Noise Rekey: the new key is ENCRYPT(k, maxnonce, empty, zeros)[0..32], and a message sealed after it opens only under it', (t) => {
  const key = randomBytes(32);
  const sender = new CipherState('AESGCM', key);
  const stale = new CipherState('AESGCM', key);
  const receiver = new CipherState('AESGCM', key);
  const maxNonce = Buffer.concat([Buffer.alloc(4), Buffer.alloc(8, 0xff)]);
  const c = createCipheriv('aes-256-gcm', key, maxNonce, { authTagLength: 16 });
  const expected = Buffer.concat([c.update(Buffer.alloc(32)), c.final()]);
  sender.rekey();
  receiver.rekey();
  const control = new CipherState('AESGCM', expected);
  const sealed = sender.encryptWithAd(Buffer.alloc(0), Buffer.from('after the rekey'));
  t.is(control.decryptWithAd(Buffer.alloc(0), sealed)?.toString(), 'after the rekey');
  t.is(stale.decryptWithAd(Buffer.alloc(0), sealed), null, 'the old key does not open it');
  t.is(receiver.decryptWithAd(Buffer.alloc(0), sealed)?.toString(), 'after the rekey');
});

test('the send path rekeys on its timer too: a message announcing it, after which the receiver opens only under the new key', async (t) => {
  const written: Buffer[] = [];
  let wake: (() => void) | undefined;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, cb) {
      written.push(chunk);
      wake?.();
      cb();
    },
  });
  const key = randomBytes(32);
  const [send, recv] = [new CipherState('AESGCM'), new CipherState('AESGCM')];
  send.initializeKey(key);
  recv.initializeKey(key);
  const writer = new FrameWriter(sink as unknown as Duplex, send, () => undefined, { ms: 5 });
  t.teardown(() => writer.stop());
  const receiver = new E2eReceiver(new E2eFrameDecoder(), recv, { verdictPending: false });
  await new Promise<void>((resolve) => (wake = resolve));
  receiver.push(Buffer.concat(written.splice(0)));
  t.is(receiver.next(), null);
  t.true(receiver.peerRekeys >= 1, 'the timer fired a rekey, announced in its own message');
  t.is(writer.rekeys, receiver.peerRekeys);
  writer.frame(FRAME.data, 1, Buffer.from('after'));
  writer.flush();
  receiver.push(Buffer.concat(written.splice(0)));
  t.like(receiver.next(), { type: 'data', channel: 1 });
  t.is(receiver.next(), null);
});
