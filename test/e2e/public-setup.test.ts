/**
 * The skeleton's side of a public tunnel (issue 16, setup latency): the relay's public-leg handshake asks
 * for a tunnel, and every public connection is then one channel whose open frame carries that
 * connection's own endpoints, so each home connection gets the PROXY header of its own client. A burrow
 * client's tunnel cannot name endpoints; the skeleton opens no home connection before the confirm.
 */
import test from 'ava';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { connect as netConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { secureTunnel } from '../../shared/crypto/secure-stream.js';
import { encodeOpenEndpoints } from '../../shared/tunnel/open-endpoints.js';
import { Tunnel } from '../../shared/tunnel/tunnel.js';
import { PUBLIC_TUNNEL_WINDOWS } from '../../shared/tunnel/channel-credit.js';
import { duplexPair } from '../../shared/net/duplex-pair.js';
import { silentLogger } from '../../shared/log.js';
import { serveStream } from '../../skeleton/io/serve-stream.js';
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

async function channelEcho(tunnel: Tunnel, text: string, endpoints?: Parameters<typeof encodeOpenEndpoints>[0]): Promise<string> {
  const [mine, channelSide] = duplexPair();
  const channel = tunnel.openChannel(channelSide, endpoints ? encodeOpenEndpoints(endpoints) : undefined);
  mine.end(text);
  let back = '';
  mine.setEncoding('utf8');
  for await (const chunk of mine) back += chunk as string;
  await channel.settled;
  return back;
}

test('a public tunnel: each channel is one home connection, and each gets the PROXY header of the client its open frame names', async (t) => {
  const home = await recordingHome(t);
  const { relaySide, skeletonSide } = await socketPair(t);
  const legKey = randomBytes(32);
  const served = serveStream(skeletonSide, Buffer.alloc(0), server('home-mail', home.port, newSecret(), { proxy: 'v1' }), silentLogger(), {
    publicLeg: legKey, targetTimeoutMs: 5000,
    // The Bind's endpoints are those of the connection that opened the tunnel: never used for its channels.
    client: { src: '203.0.113.99', srcPort: 9, dst: '127.0.0.1', dstPort: 25 },
  });
  const tunnel = new Tunnel(await secureTunnel(relaySide, { psk: legKey, serverId: 'home-mail' }), 'initiator', { windows: PUBLIC_TUNNEL_WINDOWS });
  const a = await channelEcho(tunnel, 'EHLO a', { src: '198.51.100.7', srcPort: 40001, dst: '192.0.2.1', dstPort: 25 });
  const b = await channelEcho(tunnel, 'EHLO b', { src: '2001:db8::5', srcPort: 40002, dst: '2001:db8::1', dstPort: 25 });
  t.is(home.conns.length, 2);
  t.is(Buffer.concat(home.conns[0]!.bytes).toString(), 'PROXY TCP4 198.51.100.7 192.0.2.1 40001 25\r\nEHLO a');
  t.is(Buffer.concat(home.conns[1]!.bytes).toString(), 'PROXY TCP6 2001:db8::5 2001:db8::1 40002 25\r\nEHLO b');
  t.true(a.endsWith('EHLO a') && b.endsWith('EHLO b'));
  // A channel without endpoints for a server that wants them is refused; the home server never sees it.
  const [, refusedSide] = duplexPair();
  const refused = await tunnel.openChannel(refusedSide).settled;
  t.true(refused.refused);
  t.is(refused.code, 'ERR_PROXY_NOT_ALLOWED');
  t.is(home.conns.length, 2);
  tunnel.end();
  await served;
});

test('a burrow client\'s tunnel cannot name endpoints: an open frame with a payload closes the tunnel, and no home connection is made', async (t) => {
  const home = await recordingHome(t);
  const { relaySide, skeletonSide } = await socketPair(t);
  const secret = newSecret();
  const served = serveStream(skeletonSide, Buffer.alloc(0), server('home-mail', home.port, secret, { proxy: 'v1' }), silentLogger(), {
    targetTimeoutMs: 5000, client: { src: '203.0.113.99', srcPort: 9, dst: '127.0.0.1', dstPort: 25 },
  });
  const tunnel = new Tunnel(await secureTunnel(relaySide, { psk: secret.reveal(), serverId: 'home-mail' }), 'initiator');
  const closed = once(tunnel, 'close') as Promise<[string | undefined]>;
  const [, side] = duplexPair();
  tunnel.openChannel(side, encodeOpenEndpoints({ src: '198.51.100.7', srcPort: 1, dst: '192.0.2.1', dstPort: 25 }));
  await served;
  const [code] = await closed;
  t.truthy(code, 'the tunnel failed rather than ended');
  t.is(home.conns.length, 0);
});

test('a public tunnel\'s handshake with another key fails before any home connection is made', async (t) => {
  const home = await recordingHome(t);
  const { relaySide, skeletonSide } = await socketPair(t);
  const served = serveStream(skeletonSide, Buffer.alloc(0), server('home-web', home.port, newSecret()), silentLogger(), { publicLeg: randomBytes(32), targetTimeoutMs: 5000 });
  const err = await t.throwsAsync(secureTunnel(relaySide, { psk: randomBytes(32), serverId: 'home-web' }));
  t.is((err as { code?: string }).code, 'ERR_E2E_HANDSHAKE_FAILED');
  await served;
  t.is(home.conns.length, 0);
});
