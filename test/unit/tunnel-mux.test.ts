/**
 * The tunnel (shared/tunnel): many channels over one end-to-end channel, on real loopback sockets.
 * The skeleton side is the real serveTunnel; a "middle" forwarder stands where the relay would be.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net, { type Socket } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { secureResponder, secureTunnel, type TunnelLink } from '../../shared/crypto/secure-stream.js';
import { silentLogger } from '../../shared/log.js';
import { Redacted } from '../../shared/redacted.js';
import { Tunnel } from '../../shared/tunnel/tunnel.js';
import { FrameReader } from '../../shared/tunnel/tunnel-frame-reader.js';
import { CHANNEL_WINDOW, FRAME, frameHeader, MAX_DATA, MAX_OPEN_PAYLOAD, type ControlFrame } from '../../shared/tunnel/tunnel-frames.js';
import { serveTunnel, type ServeTunnelOptions } from '../../skeleton/io/serve-tunnel.js';
import { SkeletonDrain } from '../../skeleton/io/skeleton-drain.js';
import { duplexPair } from '../../shared/net/duplex-pair.js';
import { REPLAY_LIMIT } from '../../shared/tunnel/tunnel-channel.js';
import type { SkeletonServer } from '../../skeleton/io/skeleton-server.js';
import { listen, pair } from '../helpers/loopback.js';
import { stateReaches } from '../helpers/state-wait.js';

const SERVER_ID = 'home-db';

/**
 * A target nothing listens on (it refuses): a random port on a random 127/8 address, which no other test
 * can have taken meanwhile (a port freed on 127.0.0.1 could be, and then the connect would not refuse).
 */
function refusingTarget(): { host: string; port: number } {
  const b = randomBytes(5);
  return { host: `127.${b[0]! % 254 + 1}.${b[1]}.${b[2]! % 253 + 2}`, port: 1024 + (b.readUInt16BE(3) % 60_000) };
}

/** A target whose first accepted socket is handed out. */
async function firstSocket(t: ExecutionContext, onSocket?: (socket: Socket) => void): Promise<{ port: number; socket: Promise<Socket> }> {
  let got!: (socket: Socket) => void;
  const socket = new Promise<Socket>((resolve) => (got = resolve));
  const port = await listen(t, (s) => {
    onSocket?.(s);
    got(s);
  });
  return { port, socket };
}

/** An echo target: answers everything it reads, ends when its peer ends. */
function echoTarget(t: ExecutionContext): Promise<number> {
  return listen(t, (socket) => socket.pipe(socket));
}

function skeletonServer(port: number, psk: Buffer, host = '127.0.0.1'): SkeletonServer {
  return { id: SERVER_ID, host, port, secret: new Redacted(psk), description: '', protocol: 'tcp' };
}

interface TunnelPair {
  client: Tunnel;
  /** Resolves when the skeleton's side of the tunnel has closed. */
  served: Promise<void>;
  /** The bytes between the two ends, in both directions (the relay's view). */
  seen: Buffer[];
  /** The two sockets of the middle (client side, skeleton side). */
  middle: { toClient: Socket; toSkeleton: Socket };
  /** The client tunnel's own socket (towards the middle). */
  clientSocket: Socket;
}

/** Client Tunnel <-> middle <-> skeleton serveTunnel(target). */
async function tunnelPair(
  t: ExecutionContext, targetPort: number,
  opts: { psk?: Buffer; clientPsk?: Buffer; serve?: ServeTunnelOptions; client?: ConstructorParameters<typeof Tunnel>[2]; targetHost?: string } = {},
): Promise<TunnelPair> {
  const psk = opts.psk ?? randomBytes(32);
  const up = await pair(t); // client <-> middle
  const down = await pair(t); // middle <-> skeleton
  const seen: Buffer[] = [];
  up.b.on('data', (c: Buffer) => seen.push(c));
  down.a.on('data', (c: Buffer) => seen.push(c));
  up.b.pipe(down.a);
  down.a.pipe(up.b);
  // As the relay's splice does: an error on either side destroys both.
  up.b.on('error', () => down.a.destroy());
  down.a.on('error', () => up.b.destroy());
  up.b.on('close', () => down.a.destroy());
  down.a.on('close', () => up.b.destroy());
  let served!: Promise<void>;
  const responded = secureResponder(down.b, {
    psk, serverId: SERVER_ID, accept: async () => undefined,
    tunnel: (link: TunnelLink) => {
      served = serveTunnel(link, skeletonServer(targetPort, psk, opts.targetHost), silentLogger(), 2_000, undefined, opts.serve);
    },
  });
  const [link] = await Promise.all([secureTunnel(up.a, { psk: opts.clientPsk ?? psk, serverId: SERVER_ID }), responded]);
  const client = new Tunnel(link, 'initiator', opts.client);
  t.teardown(() => client.destroy());
  return { client, served, seen, middle: { toClient: up.b, toSkeleton: down.a }, clientSocket: up.a };
}

/** Opens a channel for a fresh local connection; returns the app's end of it. */
async function openApp(t: ExecutionContext, tunnel: Tunnel): Promise<{ app: Socket; channel: ReturnType<Tunnel['openChannel']> }> {
  const { a: app, b: local } = await pair(t);
  local.pause();
  return { app, channel: tunnel.openChannel(local) };
}

function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('close', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('many channels over one tunnel: every byte echoes back intact, half-close both ways', async (t) => {
  const target = await echoTarget(t);
  const { client, served } = await tunnelPair(t, target);
  const runs = Array.from({ length: 24 }, async (_, i) => {
    const { app, channel } = await openApp(t, client);
    const payload = randomBytes(1000 + i * 40_000); // up to ~0.9 MiB: crosses frame and grant sizes
    const echoed = readAll(app);
    app.end(payload);
    const back = await echoed;
    t.is(back.length, payload.length, `channel ${i}`);
    t.is(digest(back), digest(payload), `channel ${i}`);
    const result = await channel.settled;
    t.true(result.opened);
    t.is(result.code, undefined);
  });
  await Promise.all(runs);
  t.is(client.channelCount, 0);
  client.end();
  await served;
});

test('what one read of the tunnel holds for a channel reaches its local socket in one write, not one per frame piece', async (t) => {
  const target = await firstSocket(t);
  const { client, clientSocket } = await tunnelPair(t, target.port);
  const { a: app, b: local } = await pair(t);
  local.pause();
  // Count the writes the stream layer hands the channel's local socket (a writev of many pieces is one).
  let writes = 0;
  const spy = local as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  const write = spy._write.bind(local);
  const writev = spy._writev.bind(local);
  spy._write = (...a: unknown[]) => {
    writes++;
    write(...a);
  };
  spy._writev = (...a: unknown[]) => {
    writes++;
    writev(...a);
  };
  const channel = client.openChannel(local);
  const received = readAll(app);
  const skeletonSide = await target.socket;
  let reads = 0;
  clientSocket.on('data', () => reads++);
  // 4 MiB: frames of MAX_DATA in transport messages of 65519 bytes, so most reads hold 2-3 pieces of one channel.
  const payload = randomBytes(4 * 1024 * 1024);
  skeletonSide.end(payload);
  const back = await received;
  t.is(digest(back), digest(payload));
  t.true(reads > 0);
  t.true(writes <= reads, `${writes} writes for ${reads} reads of the tunnel socket`);
  app.end();
  await channel.settled;
});

test('a channel whose target does not read does not stall another channel, and its bytes all arrive once it reads', async (t) => {
  const stalled = await firstSocket(t, (s) => s.pause());
  const echo = await echoTarget(t);
  // One tunnel has one target: a router in front picks the stalled or the echo target by the first byte.
  const router = await listen(t, (s) => {
    s.once('readable', () => {
      const first = s.read(1) as Buffer | null;
      if (!first) return;
      const to = net.connect({ port: first[0] === 0x53 ? stalled.port : echo, host: '127.0.0.1', allowHalfOpen: true });
      to.on('error', () => s.destroy());
      s.on('error', () => to.destroy());
      s.pipe(to);
      to.pipe(s);
    });
  });
  const { client } = await tunnelPair(t, router);
  const slow = await openApp(t, client);
  const big = Buffer.alloc(8 * CHANNEL_WINDOW, 7);
  slow.app.write(Buffer.from('S'));
  slow.app.write(big);
  const stalledSocket = await stalled.socket;
  const fast = await openApp(t, client);
  const echoed = readAll(fast.app);
  fast.app.end(Buffer.from('Fhello'));
  t.is((await echoed).toString(), 'hello');
  const received = readAll(stalledSocket);
  slow.app.end();
  stalledSocket.resume();
  const all = await received;
  t.is(all.length, big.length);
  t.true(all.every((byte) => byte === 7));
});

test('a target that refuses refuses that channel alone, with ERR_SERVER_UNREACHABLE', async (t) => {
  const refusing = refusingTarget();
  const bad = await tunnelPair(t, refusing.port, { targetHost: refusing.host });
  const { app, channel } = await openApp(t, bad.client);
  app.write('early bytes');
  const reset = new Promise<string | undefined>((resolve) => {
    app.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
    app.once('close', () => resolve(undefined));
  });
  t.deepEqual(await channel.settled, { opened: false, refused: true, code: 'ERR_SERVER_UNREACHABLE' });
  t.is(await reset, 'ECONNRESET', 'the app sees its connection reset, as if refused');
  t.true(bad.client.usable, 'the tunnel lives on');
  const again = await openApp(t, bad.client);
  t.is((await again.channel.settled).code, 'ERR_SERVER_UNREACHABLE');
  // A tunnel to a live target, for contrast.
  const good = await tunnelPair(t, await echoTarget(t));
  const ok = await openApp(t, good.client);
  const echoed = readAll(ok.app);
  ok.app.end('x');
  t.is((await echoed).toString(), 'x');
});

test('an app that resets its connection resets the target connection', async (t) => {
  const target = await firstSocket(t);
  const { client } = await tunnelPair(t, target.port);
  const { app, channel } = await openApp(t, client);
  app.write('hi');
  const targetSide = await target.socket;
  const failed = once(targetSide, 'error').then(([err]) => (err as NodeJS.ErrnoException).code, () => 'no error');
  app.resetAndDestroy();
  t.is((await channel.settled).code, 'ERR_CONNECTION_CLOSED');
  t.is(await failed, 'ECONNRESET', 'the reset travels on as a TCP reset');
  t.true(client.usable);
});

test('the relay sees no channel ids, types or payload: only ciphertext', async (t) => {
  const target = await echoTarget(t);
  const { client, seen } = await tunnelPair(t, target);
  const marker = Buffer.from('VISIBLE-MARKER-'.repeat(40));
  const { app } = await openApp(t, client);
  const echoed = readAll(app);
  app.end(marker);
  await echoed;
  const wire = Buffer.concat(seen);
  t.true(wire.length > marker.length * 2);
  t.is(wire.indexOf(Buffer.from('VISIBLE-MARKER-')), -1);
});

test('a wrong secret fails the tunnel handshake and opens nothing', async (t) => {
  let touched = false;
  const target = await listen(t, () => void (touched = true));
  await t.throwsAsync(tunnelPair(t, target, { psk: randomBytes(32), clientPsk: randomBytes(32) }), { message: /e2e|handshake|closed/i });
  t.false(touched);
});

test('a skeleton that does not offer tunnels refuses the handshake without touching its target', async (t) => {
  const psk = randomBytes(32);
  const { a, b } = await pair(t);
  let accepted = false;
  const responding = secureResponder(b, { psk, serverId: SERVER_ID, accept: async () => void (accepted = true) });
  const initiating = secureTunnel(a, { psk, serverId: SERVER_ID });
  await t.throwsAsync(responding, { instanceOf: Error, message: /unsupported stream kind/ });
  await t.throwsAsync(initiating);
  t.false(accepted);
});

test('a peer sending past its window, or on a channel never opened, closes the tunnel', async (t) => {
  const target = await echoTarget(t);
  for (const abuse of ['window', 'unopened'] as const) {
    const { client, served } = await tunnelPair(t, target);
    const closed = once(client, 'close');
    if (abuse === 'window') {
      client.send(FRAME.open, 1);
      const chunk = Buffer.alloc(MAX_DATA);
      for (let sent = 0; sent <= CHANNEL_WINDOW; sent += chunk.length) client.send(FRAME.data, 1, chunk);
    } else {
      client.send(FRAME.data, 9, Buffer.from('x'));
    }
    await served; // the skeleton gave up on the tunnel
    const [code] = await closed;
    t.truthy(code, abuse);
  }
});

test('a middle that cuts the tunnel without its end frame fails every channel with ERR_STREAM_TRUNCATED', async (t) => {
  const target = await listen(t, () => undefined); // a target that never answers
  const { client, middle } = await tunnelPair(t, target);
  const { channel } = await openApp(t, client);
  const second = await openApp(t, client);
  middle.toSkeleton.unpipe();
  middle.toClient.end(); // a clean TCP end, but no authenticated end of the tunnel
  const [code] = await once(client, 'close');
  t.is(code, 'ERR_STREAM_TRUNCATED');
  t.is((await channel.settled).code, 'ERR_STREAM_TRUNCATED');
  t.is((await second.channel.settled).code, 'ERR_STREAM_TRUNCATED');
});

test('the frame reader: frames cut anywhere across messages read back the same; bad headers are malformed', (t) => {
  const frame = (type: number, channel: number, payload: Buffer = Buffer.alloc(0)): Buffer => {
    const h = Buffer.alloc(7);
    h.writeUInt8(type, 0);
    h.writeUInt32BE(channel, 1);
    h.writeUInt16BE(payload.length, 5);
    return Buffer.concat([h, payload]);
  };
  const data = randomBytes(3000);
  const stream = Buffer.concat([
    frame(FRAME.open, 1), frame(FRAME.data, 1, data), frame(FRAME.window, 1, Buffer.from([0, 0, 1, 0])),
    frame(FRAME.reset, 2, Buffer.from('ERR_LIMIT')), frame(FRAME.end, 1),
  ]);
  t.deepEqual(frameHeader(FRAME.data, 1, data.length), stream.subarray(7, 14));
  for (const cut of [1, 2, 6, 7, 8, 500, stream.length]) {
    const controls: ControlFrame[] = [];
    const pieces: Buffer[] = [];
    const reader = new FrameReader({ control: (f) => controls.push({ ...f, payload: Buffer.from(f.payload) }), data: (_, piece) => pieces.push(Buffer.from(piece)), rekey: () => undefined });
    for (let at = 0; at < stream.length; at += cut) reader.push(stream.subarray(at, at + cut));
    t.true(reader.atBoundary);
    t.deepEqual(controls.map((f) => [f.type, f.channel, f.payload.toString('hex')]), [
      [FRAME.open, 1, ''], [FRAME.window, 1, '00000100'], [FRAME.reset, 2, Buffer.from('ERR_LIMIT').toString('hex')], [FRAME.end, 1, ''],
    ], `cut ${cut}`);
    t.true(Buffer.concat(pieces).equals(data), `cut ${cut}`);
  }
  for (const bad of [
    frame(99, 1),
    frame(FRAME.data, 1),
    frame(FRAME.data, 0, Buffer.from('x')),
    frame(FRAME.open, 1, Buffer.alloc(MAX_OPEN_PAYLOAD + 1, 0x78)), // a payload only a public tunnel may send, and short
    frame(FRAME.window, 1, Buffer.from([0, 0, 0, 0])),
    frame(FRAME.window, 1, Buffer.from([0, 1])),
    frame(FRAME.refused, 1),
    frame(FRAME.reset, 1, Buffer.alloc(65, 0x41)),
  ]) {
    const reader = new FrameReader({ control: () => undefined, data: () => undefined, rekey: () => undefined });
    t.throws(() => reader.push(bad), { message: /tunnel frame/ }, bad.toString('hex'));
  }
  // A rekey is for the tunnel (channel 0), carries nothing, and ends its message.
  let rekeys = 0;
  const reader = new FrameReader({ control: () => undefined, data: () => undefined, rekey: () => void rekeys++ });
  reader.push(frame(FRAME.open, 1));
  reader.push(frame(FRAME.rekey, 0));
  t.is(rekeys, 1);
  for (const bad of [frame(FRAME.rekey, 1), frame(FRAME.rekey, 0, Buffer.from('x')), Buffer.concat([frame(FRAME.rekey, 0), frame(FRAME.end, 1)])]) {
    const r = new FrameReader({ control: () => undefined, data: () => undefined, rekey: () => undefined });
    t.throws(() => r.push(bad), { message: /tunnel frame/ }, bad.toString('hex'));
  }
  t.is(MAX_DATA, 0xffff);
});

test('target connects in progress are capped per tunnel: opening and resetting channels cannot pile them up', async (t) => {
  let started = 0;
  const never = (): Promise<Socket> => {
    started++;
    return new Promise(() => undefined); // a target that never answers the connect
  };
  const { client } = await tunnelPair(t, 1, { serve: { connect: never, maxConnecting: 3 } });
  const first = await Promise.all([1, 2, 3].map(() => openApp(t, client)));
  const fourth = await openApp(t, client);
  t.deepEqual(await fourth.channel.settled, { opened: false, refused: true, code: 'ERR_LIMIT' });
  // Resetting the three frees their channels, but their connects still run: still no room.
  for (const { app } of first) app.resetAndDestroy();
  await Promise.all(first.map(({ channel }) => channel.settled));
  const fifth = await openApp(t, client);
  t.is((await fifth.channel.settled).code, 'ERR_LIMIT');
  t.is(started, 3);
  t.true(client.usable);
});

test('bytes held for targets still connecting are capped per tunnel: past the cap the tunnel is cut with ERR_LIMIT', async (t) => {
  const never = (): Promise<Socket> => new Promise(() => undefined);
  const { client, served } = await tunnelPair(t, 1, { serve: { connect: never } });
  const closed = once(client, 'close');
  // Each channel may send a whole window before its target answers; 20 of them exceed 16 MiB.
  for (let i = 0; i < 20; i++) {
    const { a: app, b: local } = await pair(t);
    if (!client.usable) break; // already cut: the cap was reached
    local.pause();
    client.openChannel(local);
    app.write(Buffer.alloc(CHANNEL_WINDOW, i));
  }
  await served;
  const [code] = await closed;
  t.truthy(code, 'the client sees its tunnel cut');
});

test('preOpenBytes: a channel sends no more than that before its target accepted, and the rest once it has', async (t) => {
  let accept!: () => void;
  const accepted = new Promise<void>((resolve) => { accept = resolve; });
  const target = await firstSocket(t);
  const connect: ServeTunnelOptions['connect'] = async (host, port) => {
    await accepted;
    const socket = net.connect({ host, port });
    await once(socket, 'connect');
    return socket;
  };
  const { client, middle } = await tunnelPair(t, target.port, { serve: { connect }, client: { preOpenBytes: 4096 } });
  let towardsSkeleton = 0;
  middle.toClient.on('data', (c: Buffer) => { towardsSkeleton += c.length; });
  const { app } = await openApp(t, client);
  const payload = randomBytes(200_000);
  app.write(payload);
  // The open and the first data are out (without the cap the first flush alone carries a whole 64 KiB read).
  t.true(await stateReaches(() => towardsSkeleton > 0));
  await stateReaches(() => app.writableLength === 0);
  // 4096 bytes of data plus frame headers and AEAD tags, far below the 200,000 written.
  t.true(towardsSkeleton < 4096 + 512, `sent ${towardsSkeleton} bytes before the target accepted`);
  accept();
  const socket = await target.socket;
  const got = readAll(socket);
  app.end();
  t.is(digest(await got), digest(payload));
});

test('forty channels that read at once never push the tunnel past its backlog cap: what cannot go out waits in the channel', async (t) => {
  const target = await echoTarget(t);
  // A small cap (1 MiB): 40 channels reading 64 KiB each in one turn would queue 2.5 MiB on the tunnel socket.
  const { client } = await tunnelPair(t, target, { client: { maxBacklog: 1024 * 1024 } });
  let failed: string | undefined;
  client.once('close', (code) => { failed = code; });
  const runs = Array.from({ length: 40 }, async () => {
    const { app } = await openApp(t, client);
    const payload = randomBytes(400_000);
    const echoed = readAll(app);
    app.end(payload);
    return digest(await echoed) === digest(payload);
  });
  t.deepEqual(await Promise.all(runs), Array<boolean>(40).fill(true));
  t.is(failed, undefined, 'the tunnel was never cut');
  t.true(client.usable);
});

test('a tunnel that fails resets its channels\' local sockets: a cut is never mistaken for a clean end', async (t) => {
  const target = await firstSocket(t);
  const { client, middle } = await tunnelPair(t, target.port);
  const { app } = await openApp(t, client);
  app.write('hello');
  await target.socket;
  const reset = new Promise<string | undefined>((resolve) => {
    app.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
    app.once('close', () => resolve(undefined));
  });
  middle.toClient.destroy(); // the relay's side goes away mid-stream
  t.is(await reset, 'ECONNRESET');
});

test('a channel refused by a stopping skeleton gives its local side back whole when asked: what it sent is read again, on another tunnel', async (t) => {
  const target = await echoTarget(t);
  const stopping = await stoppingTunnel(t, target);
  const healthy = await tunnelPair(t, target);
  const [app, local] = duplexPair();
  const payload = randomBytes(40 * 1024);
  app.write(payload); // waits in the local side's read buffer: the channel sends it before the refusal can come back
  const refused = stopping.client.openChannel(local);
  refused.keepLocalIfRefused = (code) => code === 'ERR_SHUTTING_DOWN';
  t.like(await refused.settled, { opened: false, refused: true, code: 'ERR_SHUTTING_DOWN', localKept: true });
  t.false(local.destroyed);
  const echoed = new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    app.on('data', (c: Buffer) => {
      chunks.push(c);
      if (Buffer.concat(chunks).length >= payload.length) resolve(Buffer.concat(chunks));
    });
  });
  const carried = healthy.client.openChannel(local);
  t.is(digest(await echoed), digest(payload), 'every byte sent to the refusing skeleton reached the echo once, in order');
  app.end();
  t.true((await carried.settled).opened);
});

test('a refused channel that sent more than REPLAY_LIMIT, or was not asked to keep its local side, resets it', async (t) => {
  const target = await echoTarget(t);
  const stopping = await stoppingTunnel(t, target);
  for (const [size, keep] of [[REPLAY_LIMIT + 1024, true], [1024, false]] as const) {
    const [app, local] = duplexPair();
    app.on('error', () => undefined);
    app.write(randomBytes(size));
    const channel = stopping.client.openChannel(local);
    if (keep) channel.keepLocalIfRefused = () => true;
    const result = await channel.settled;
    t.like(result, { refused: true, code: 'ERR_SHUTTING_DOWN' }, `${size} bytes`);
    t.is(result.localKept, undefined, `${size} bytes`);
    t.true(local.destroyed, `${size} bytes`);
  }
});

/** A tunnel whose skeleton began to stop while a channel (an echo that answered, left open) ran on it: it refuses new channels. */
async function stoppingTunnel(t: ExecutionContext, target: number): Promise<TunnelPair> {
  const draining = new SkeletonDrain();
  const tunnel = await tunnelPair(t, target, { serve: { drain: draining } });
  const { app } = await openApp(t, tunnel.client);
  app.write('x');
  await once(app, 'data');
  draining.start();
  return tunnel;
}

test('a channel with one direction ended is halfClosed (work in flight for a drain), not once both ended', async (t) => {
  const { port, socket } = await firstSocket(t);
  const { client } = await tunnelPair(t, port);
  const { app, channel } = await openApp(t, client);
  const target = await socket;
  t.false(channel.halfClosed);
  const got = readAll(app);
  target.end('the whole answer'); // the server is done; the app has not ended its side
  t.is((await got).toString(), 'the whole answer');
  t.true(channel.halfClosed, 'the server ended, the app not yet: a drain must not take it for idle');
  app.end();
  await channel.settled;
  t.false(channel.halfClosed);
});
