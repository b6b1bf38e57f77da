/**
 * UDP through burrow (issue 17): a skeleton fronting a UDP echo server (transport=udp), a client
 * forwarder listening on UDP, real sockets on 127.0.0.1 port 0. Datagrams arrive whole; each local
 * source is a flow with a socket of its own at the skeleton (the server sees distinct peers); a flow
 * ends after the idle time (clocks advanced by hand) and the next datagram starts a new one; caps refuse
 * one flow more while the flows already there keep working; a malformed record ends its flow only.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { startUdpForwarder, type UdpForwarder } from '../../client/io/udp-forwarder.js';
import { silentLogger } from '../../shared/log.js';
import { Redacted } from '../../shared/redacted.js';
import type { BurrowClient } from '../../client/index.js';
import type { SkeletonHandle } from '../../skeleton/index.js';
import { stateReaches } from '../helpers/state-wait.js';
import { udpApp, udpEcho, type UdpEcho } from '../helpers/udp.js';
import { connectTestClient, newSecret, PASSWORD, server, startTestSkeleton, startWorld } from '../helpers/world.js';
import type { ExecutionContext } from 'ava';
import { startSkeleton } from '../../skeleton/index.js';

interface UdpWorld {
  echo: UdpEcho;
  client: BurrowClient;
  skeleton: SkeletonHandle;
  secret: Redacted<Buffer>;
  forwarder: UdpForwarder;
  /** The hand-driven clocks of the forwarder and of the skeleton, in ms. */
  clock: { forwarder: number; skeleton: number };
}

async function udpWorld(t: ExecutionContext, opts: { maxFlows?: number; maxUdpFlows?: number } = {}): Promise<UdpWorld> {
  const world = await startWorld(t);
  const echo = await udpEcho(t);
  const secret = newSecret();
  const clock = { forwarder: 0, skeleton: 0 };
  const skeleton = await startSkeleton({
    relay: world.skeletonTarget, user: 'home', password: new Redacted(PASSWORD),
    servers: [server('home-dns', echo.port, secret, { protocol: 'udp', transport: 'udp' })],
    udpIdleMs: 120_000, now: () => clock.skeleton, ...(opts.maxUdpFlows ? { maxUdpFlows: opts.maxUdpFlows } : {}),
  });
  t.teardown(() => skeleton.close());
  const client = await connectTestClient(t, world);
  const forwarder = await startUdpForwarder({
    client, serverId: 'home-dns', secret, host: '127.0.0.1', port: 0, log: silentLogger(), idleMs: 120_000, now: () => clock.forwarder,
    ...(opts.maxFlows ? { maxFlows: opts.maxFlows } : {}),
  });
  t.teardown(() => forwarder.close());
  return { echo, client, skeleton, secret, forwarder, clock };
}

test('the listing says udp for a transport=udp server', async (t) => {
  const world = await startWorld(t);
  const echo = await udpEcho(t);
  await startTestSkeleton(t, world, [server('home-dns', echo.port, newSecret(), { protocol: 'udp', transport: 'udp' })]);
  const client = await connectTestClient(t, world);
  const listed = await client.list();
  t.is(listed.find((s) => s.id === 'home-dns')?.protocol, 'udp');
});

test('datagrams of 1, 1472, 9000 and 65507 bytes arrive whole both ways', async (t) => {
  const { echo, forwarder } = await udpWorld(t);
  const app = await udpApp(t);
  for (const size of [1, 1472, 9000, 65_507]) {
    const datagram = randomBytes(size);
    const answer = await app.ask(forwarder.address.port, datagram);
    t.is(answer.length, size, `${size}-byte answer`);
    t.true(answer.equals(datagram), `${size}-byte datagram intact`);
  }
  t.deepEqual(echo.sizes, [1, 1472, 9000, 65_507], 'the server got each datagram whole, once');
  t.like(forwarder.stats(), { active: 1, total: 1, dropped: 0, bytesClientToServer: 1 + 1472 + 9000 + 65_507 });
});

test('two local sources are two flows: the server sees two distinct peers, each gets its own answers', async (t) => {
  const { echo, forwarder, skeleton } = await udpWorld(t);
  const [a, b] = [await udpApp(t), await udpApp(t)];
  for (let i = 0; i < 3; i++) {
    t.is((await a.ask(forwarder.address.port, Buffer.from(`a${i}`))).toString(), `a${i}`);
    t.is((await b.ask(forwarder.address.port, Buffer.from(`b${i}`))).toString(), `b${i}`);
  }
  t.is(echo.peers.length, 2);
  t.is(skeleton.udp.totals().active, 2);
  t.is(forwarder.stats().total, 2);
});

test('a flow idle for --udp-idle at the forwarder ends (its skeleton socket too); the next datagram is a new flow', async (t) => {
  const w = await udpWorld(t);
  const app = await udpApp(t);
  t.is((await app.ask(w.forwarder.address.port, Buffer.from('one'))).toString(), 'one');
  w.clock.forwarder += 119_999;
  w.forwarder.sweep();
  t.is(w.forwarder.stats().active, 1, 'not a millisecond early');
  w.clock.forwarder += 1;
  w.forwarder.sweep();
  t.is(w.forwarder.stats().active, 0);
  t.true(await stateReaches(() => w.skeleton.udp.totals().active === 0), 'the skeleton closed the flow and its socket');
  t.is((await app.ask(w.forwarder.address.port, Buffer.from('two'))).toString(), 'two');
  t.is(w.echo.peers.length, 2, 'a new socket toward the server: a new peer');
  t.like(w.forwarder.stats(), { active: 1, total: 2 });
});

test('a flow idle at the skeleton ends there too, and the forwarder starts a new one on the next datagram', async (t) => {
  const w = await udpWorld(t);
  const app = await udpApp(t);
  t.is((await app.ask(w.forwarder.address.port, Buffer.from('one'))).toString(), 'one');
  w.clock.skeleton += 120_000;
  w.skeleton.udp.sweep();
  t.is(w.skeleton.udp.totals().active, 0);
  t.true(await stateReaches(() => w.forwarder.stats().active === 0), 'the forwarder saw its stream end');
  t.is((await app.ask(w.forwarder.address.port, Buffer.from('two'))).toString(), 'two');
  t.like(w.forwarder.stats(), { active: 1, total: 2 });
});

test('the forwarder cap refuses one source more (counted) while the first flow keeps working', async (t) => {
  const w = await udpWorld(t, { maxFlows: 1 });
  const [a, b] = [await udpApp(t), await udpApp(t)];
  t.is((await a.ask(w.forwarder.address.port, Buffer.from('a'))).toString(), 'a');
  b.socket.send(Buffer.from('b'), w.forwarder.address.port, '127.0.0.1');
  t.true(await stateReaches(() => w.forwarder.stats().refused === 1), 'refused and counted');
  t.is((await a.ask(w.forwarder.address.port, Buffer.from('a2'))).toString(), 'a2');
  t.is(w.echo.peers.length, 1);
});

test('the skeleton cap refuses one flow more with ERR_LIMIT while the first keeps working', async (t) => {
  const w = await udpWorld(t, { maxUdpFlows: 1 });
  const [a, b] = [await udpApp(t), await udpApp(t)];
  t.is((await a.ask(w.forwarder.address.port, Buffer.from('a'))).toString(), 'a');
  b.socket.send(Buffer.from('b'), w.forwarder.address.port, '127.0.0.1');
  t.true(await stateReaches(() => w.forwarder.stats().failed === 1), 'the second flow failed to open');
  t.like(w.skeleton.udp.totals(), { active: 1, refused: 1 });
  t.is((await a.ask(w.forwarder.address.port, Buffer.from('a2'))).toString(), 'a2');
  t.is(w.echo.peers.length, 1);
});

test('a malformed record ends that one flow at the skeleton; other flows keep working', async (t) => {
  const w = await udpWorld(t);
  const app = await udpApp(t);
  t.is((await app.ask(w.forwarder.address.port, Buffer.from('before'))).toString(), 'before');
  // A client that knows the secret but sends an unknown record kind, then one declaring 65,535 bytes.
  for (const bad of [Buffer.from([9, 0, 1, 0x41]), Buffer.from([0, 0xff, 0xff])]) {
    const stream = await w.client.open('home-dns', { secret: w.secret });
    const closed = new Promise((resolve) => stream.once('close', resolve));
    // The skeleton cuts the stream: here that reads as a truncated stream.
    stream.on('error', () => undefined);
    stream.resume();
    stream.write(bad);
    await closed;
  }
  t.true(await stateReaches(() => w.skeleton.udp.totals().active === 1), 'the bad flows are gone');
  t.is((await app.ask(w.forwarder.address.port, Buffer.from('after'))).toString(), 'after');
  t.is(w.echo.sizes.length, 2, 'nothing of the bad records reached the server');
});

test('a flooding flow beside a quiet one: the quiet flow keeps being answered, and each flood datagram is passed or dropped and counted, once', async (t) => {
  const w = await udpWorld(t);
  const [flood, quiet] = [await udpApp(t), await udpApp(t)];
  t.is((await quiet.ask(w.forwarder.address.port, Buffer.from('warm'))).toString(), 'warm');
  const FLOOD = 3000;
  const payload = Buffer.alloc(1200, 0x46);
  let sent = 0;
  // A bounded flood, a batch per event-loop turn, while the quiet flow asks.
  const flooding = new Promise<void>((resolve) => {
    const batch = (): void => {
      for (let i = 0; i < 100 && sent < FLOOD; i++, sent++) flood.socket.send(payload, w.forwarder.address.port, '127.0.0.1');
      if (sent < FLOOD) setImmediate(batch);
      else resolve();
    };
    batch();
  });
  for (let i = 0; i < 5; i++) t.is((await quiet.ask(w.forwarder.address.port, Buffer.from(`q${i}`), 5_000)).toString(), `q${i}`);
  await flooding;
  const stats = w.forwarder.stats();
  // Every flood datagram the forwarder read either went into its stream or was dropped and counted, once.
  const floodPassed = (stats.bytesClientToServer - 'warm'.length - 5 * 2) / payload.length;
  t.true(Number.isInteger(floodPassed) && floodPassed + (stats.dropped ?? 0) <= FLOOD, `${floodPassed} passed, ${stats.dropped} dropped`);
  t.is(stats.total, 2, 'two flows, the flood one of them');
});

test('S8: a client without the secret gets no flow: the skeleton opens no UDP socket and the server hears nothing', async (t) => {
  const w = await udpWorld(t);
  const err = await t.throwsAsync(w.client.open('home-dns', { secret: newSecret() }));
  t.is((err as { code?: string }).code, 'ERR_E2E_HANDSHAKE_FAILED');
  // A forwarder with the wrong secret: its datagrams open flows that fail, and reach nothing.
  const wrong = await startUdpForwarder({ client: w.client, serverId: 'home-dns', secret: newSecret(), host: '127.0.0.1', port: 0, log: silentLogger() });
  t.teardown(() => wrong.close());
  const app = await udpApp(t);
  app.socket.send(Buffer.from('let me in'), wrong.address.port, '127.0.0.1');
  t.true(await stateReaches(() => wrong.stats().failed === 1), 'the flow failed');
  t.is(w.skeleton.udp.totals().total, 0, 'no flow was admitted at the skeleton');
  t.deepEqual(w.echo.sizes, []);
});
