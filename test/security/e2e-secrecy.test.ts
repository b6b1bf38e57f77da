/**
 * S8: streams are end to end between client and skeleton. A wrong secret never reaches the home
 * server; everything crossing the relay's two ports is ciphertext (recorded by forwarders on both
 * sides of the relay); fresh ephemeral keys make equal streams look different; and the skeleton opens
 * its target only for a client that proved the secret.
 */
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';
import { startForwarder } from '../../client/io/forwarder.js';
import { silentLogger } from '../../shared/log.js';
import { connect } from '../../client/index.js';
import { attachData } from '../../shared/peer/data-connection.js';
import { login } from '../../shared/peer/peer-login.js';
import { decodeBody, FrameDecoder } from '../../shared/protocol/codec.js';
import { parseRelayHandshake } from '../../shared/protocol/parse.js';
import { Redacted } from '../../shared/redacted.js';
import { closedOf, recordingForwarder } from '../helpers/security-net.js';
import { sendAndCollect } from '../helpers/streams.js';
import { connectTestClient, listenLocal, newSecret, PASSWORD, server, startTestSkeleton, startWorld, type World } from '../helpers/world.js';

/** An echo server that also keeps what it received: the proof that plaintext did reach the target. */
async function recordingEcho(t: ExecutionContext): Promise<{ port: number; connections: () => number; received: () => Buffer }> {
  const chunks: Buffer[] = [];
  let count = 0;
  const { port } = await listenLocal(t, (socket: Socket) => {
    count++;
    socket.on('error', () => socket.destroy());
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.pipe(socket);
  });
  return { port, connections: () => count, received: () => Buffer.concat(chunks) };
}

function forms(bytes: Buffer): Buffer[] {
  return [bytes, Buffer.from(bytes.toString('hex')), Buffer.from(bytes.toString('base64')), Buffer.from(bytes.toString('base64url'))];
}

test('S8: a client with the wrong secret (even one bit off) fails ERR_E2E_HANDSHAKE_FAILED and the home server never sees a connection', async (t) => {
  const world = await startWorld(t);
  const echo = await recordingEcho(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('echo', echo.port, secret)]);
  const client = await connectTestClient(t, world);
  const oneBitOff = Buffer.from(secret.reveal());
  oneBitOff[17]! ^= 0x10;
  for (const wrong of [newSecret(), new Redacted(oneBitOff)]) {
    const err = await t.throwsAsync(client.open('echo', { secret: wrong }));
    t.is((err as { code?: string }).code, 'ERR_E2E_HANDSHAKE_FAILED');
  }
  t.is(echo.connections(), 0);
  // The right secret does reach it: the count above is the secret check, not a broken path.
  t.is((await sendAndCollect(await client.open('echo', { secret }), Buffer.from('ok'))).toString(), 'ok');
  t.is(echo.connections(), 1);
});

test('S8: everything crossing both relay ports is ciphertext: no payload marker and no secret in either capture', async (t) => {
  const world = await startWorld(t);
  const echo = await recordingEcho(t);
  const secret = newSecret();
  const clientSide = await recordingForwarder(t, world.clientTarget.port);
  const skeletonSide = await recordingForwarder(t, world.skeletonTarget.port);
  const via: World = { ...world, clientTarget: { ...world.clientTarget, port: clientSide.port }, skeletonTarget: { ...world.skeletonTarget, port: skeletonSide.port } };
  await startTestSkeleton(t, via, [server('echo', echo.port, secret)]);
  const client = await connectTestClient(t, via);

  const marker = Buffer.from(`BURROW-SECRET-MARKER-${randomBytes(12).toString('hex')}`);
  const payload = Buffer.concat([marker, randomBytes(100_000), marker]);
  for (let stream = 0; stream < 2; stream++) {
    const back = await sendAndCollect(await client.open('echo', { secret }), payload);
    t.true(back.equals(payload), 'the echo came back intact');
  }
  t.true(echo.received().includes(marker), 'the target did get the plaintext');

  for (const [side, capture] of [['client', clientSide], ['skeleton', skeletonSide]] as const) {
    const all = capture.all();
    t.true(all.length > 4 * payload.length, `${side}: both streams, both ways, went through the capture`);
    t.false(all.includes(marker), `${side}: no payload marker`);
    t.false(all.includes(marker.subarray(0, 16)), `${side}: not even its prefix`);
    for (const form of forms(secret.reveal())) t.false(all.includes(form), `${side}: no server secret`);
  }
  // The captures are of the right connections: the relay's plain handshake frames are visible in them.
  t.true(clientSide.all().includes(Buffer.from('joined')));
  t.true(skeletonSide.all().includes(Buffer.from('bind')));

  // Two streams with the same payload and secret look unrelated on the wire (fresh ephemeral keys).
  const streams = clientSide.captures.slice(1, 3).map((c) => Buffer.concat(c.up));
  t.is(streams.length, 2);
  const [a, b] = streams.map((s) => s.subarray(s.length - 50_000));
  t.false(a!.equals(b!));
});

/** The client data connections a test opens by hand: attach to `echo`, await Joined, hand back the raw socket. */
async function joinedStream(world: World, session: Awaited<ReturnType<typeof login>>): Promise<Socket> {
  const { socket, channel } = await attachData(world.clientTarget, 'client', session, { purpose: 'stream', server: 'echo' });
  const reply = parseRelayHandshake(decodeBody(await channel.next(10_000)));
  if (reply.t !== 'joined') throw new Error(`expected joined, got ${reply.t}`);
  channel.detach();
  socket.on('error', () => socket.destroy());
  // When the skeleton hangs up, the relay half-closes us; finish the close from our side too.
  socket.on('end', () => socket.end());
  return socket;
}

test('S8: bytes that are not a handshake with the secret, sent after the join, close the stream and the target is never touched', async (t) => {
  const world = await startWorld(t);
  const echo = await recordingEcho(t);
  await startTestSkeleton(t, world, [server('echo', echo.port, newSecret())]);
  const session = await login(world.clientTarget, 'client', { user: 'alice', password: new Redacted(PASSWORD) });
  t.teardown(() => session.channel.socket.destroy());
  const attempts = [
    Buffer.concat([Buffer.from([0, 48]), randomBytes(48)]), // a message-1-sized frame of noise
    Buffer.concat([Buffer.from([0, 200]), randomBytes(200)]),
    Buffer.from([0, 1, 0]), // too short to be a handshake message
    Buffer.from([0xff, 0xff]), // a declared length beyond the handshake limit
  ];
  for (const bytes of attempts) {
    const socket = await joinedStream(world, session);
    const closed = closedOf(socket);
    socket.write(bytes);
    await closed;
  }
  t.is(echo.connections(), 0);
});

/** A relay, a skeleton fronting a recording echo, and a victim client whose relay traffic is recorded. */
async function recordedVictim(t: ExecutionContext) {
  const world = await startWorld(t);
  const echo = await recordingEcho(t);
  const secret = newSecret();
  const clientSide = await recordingForwarder(t, world.clientTarget.port);
  await startTestSkeleton(t, world, [server('echo', echo.port, secret)]);
  const victim = await connect({ relay: { ...world.clientTarget, port: clientSide.port }, user: 'alice', password: new Redacted(PASSWORD) });
  t.teardown(() => victim.close());
  /** What the victim sent on its first data connection after the Attach frame. */
  const afterAttach = (): Buffer => {
    const decoder = new FrameDecoder(1 << 20);
    decoder.append(Buffer.concat(clientSide.captures[1]!.up));
    t.truthy(decoder.next(), 'the attach frame');
    return decoder.takeRest();
  };
  return { world, echo, secret, victim, afterAttach };
}

// Regression (was a bug): shared/crypto/secure-stream.ts:105,120 (secureResponder) calls accept(), which dials the target,
// as soon as Noise message 1 decrypts, but message 1 of NNpsk0 carries no freshness from the responder,
// so a recorded message 1 replayed on a new joined stream decrypts again: anyone who can inject bytes
// into a joined stream (the relay, or any client allowed to open the id who recorded another client's
// stream) makes the skeleton connect to its target without knowing the secret (S8: "touches the local
// target only after the client has proven the secret"). No data can follow (the replayer lacks the
// ephemeral key), but the target sees a connection per replay. Fix: open the target only after the
// initiator's first transport message (or an explicit message 3) has decrypted, which proves both the
// psk and the fresh ephemeral key; send the target's refusal as a transport message instead of in
// message 2's verdict.
test('S8: a recorded handshake message 1 replayed on a new stream does not make the skeleton open its target', async (t) => {
  const { world, echo, secret, victim, afterAttach } = await recordedVictim(t);
  t.is((await sendAndCollect(await victim.open('echo', { secret }), Buffer.from('genuine'))).toString(), 'genuine');
  t.is(echo.connections(), 1);
  // The victim's data connection: its Attach frame, then Noise message 1 (u16 length + message).
  const rest = afterAttach();
  const message1 = rest.subarray(0, 2 + rest.readUInt16BE(0));

  // The attacker: a client allowed to open 'echo' but without the secret, replaying message 1.
  const session = await login(world.clientTarget, 'client', { user: 'alice', password: new Redacted(PASSWORD) });
  t.teardown(() => session.channel.socket.destroy());
  const socket = await joinedStream(world, session);
  const answered = Promise.race([new Promise((resolve) => socket.once('data', resolve)), closedOf(socket)]);
  socket.write(message1);
  await answered;
  socket.destroy();
  // One more genuine stream: its connection comes after any the replay caused, so the count is settled.
  t.is((await sendAndCollect(await victim.open('echo', { secret }), Buffer.from('again'))).toString(), 'again');
  t.is(echo.connections(), 2, 'only the two genuine streams reached the target');
});

test('S8: a recorded tunnel (handshake, confirm, channel open and data) replayed on a new stream makes the skeleton open no target and carries nothing', async (t) => {
  const { world, echo, secret, victim, afterAttach } = await recordedVictim(t);
  const forwarder = await startForwarder({ client: victim, serverId: 'echo', secret, host: '127.0.0.1', port: 0, log: silentLogger() });
  t.teardown(() => forwarder.close());
  const app = tcpConnect({ host: '127.0.0.1', port: forwarder.address.port });
  app.end('genuine through the tunnel');
  const chunks: Buffer[] = [];
  app.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((resolve) => app.once('close', resolve));
  t.is(Buffer.concat(chunks).toString(), 'genuine through the tunnel');
  t.is(echo.connections(), 1);
  // The tunnel's data connection: its Attach frame, then everything the client sent inside the tunnel.
  const recorded = afterAttach();
  t.true(recorded.length > 100, 'message 1, the confirm and the channel frames');

  const session = await login(world.clientTarget, 'client', { user: 'alice', password: new Redacted(PASSWORD) });
  t.teardown(() => session.channel.socket.destroy());
  const socket = await joinedStream(world, session);
  const closed = closedOf(socket);
  socket.write(recorded);
  await closed; // the replayed confirm does not open under the fresh handshake: the skeleton hangs up
  const app2 = tcpConnect({ host: '127.0.0.1', port: forwarder.address.port });
  app2.end('again');
  const back: Buffer[] = [];
  app2.on('data', (c: Buffer) => back.push(c));
  await new Promise((resolve) => app2.once('close', resolve));
  t.is(Buffer.concat(back).toString(), 'again');
  t.is(echo.connections(), 2, 'only the two genuine connections reached the target');
  t.is(echo.received().toString().split('genuine through the tunnel').length - 1, 1, 'the replayed data never reached the target');
});
