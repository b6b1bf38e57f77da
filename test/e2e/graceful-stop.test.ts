/**
 * Skeletons and forwarders stop gracefully. A skeleton tells the relay it is leaving (no new stream or
 * public connection is routed to it), lets what runs finish, cuts what is idle after a second, and ends
 * its tunnels with the authenticated end, so the relay sees a whole tunnel, not a truncated one. A
 * forwarder stops listening and lets its running connections finish the same way.
 */
import test from 'ava';
import bunyan from 'bunyan';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import type { Logger } from '../../shared/log.js';
import { refusedConnect } from '../helpers/public-net.js';
import { within } from '../helpers/fault-transfer.js';
import { startForwarder } from '../../client/io/forwarder.js';
import { silentLogger } from '../../shared/log.js';
import { heldServer } from '../helpers/held-server.js';
import { connectTestClient, echoServer, listenLocal, newSecret, server, startTestSkeleton, startWorld, type UserSpec } from '../helpers/world.js';

const USERS: Record<string, UserSpec> = {
  home: { roles: ['skeleton'], serve: ['home-*'], publish: ['tcp:20000-20099'] },
  alice: { roles: ['client'], access: ['home-*'] },
};

function recordingLogger(): { log: Logger; lines: () => { msg: string; level: number; code?: string }[] } {
  const ring = new bunyan.RingBuffer({ limit: 2000 });
  const log = bunyan.createLogger({ name: 'test', streams: [{ type: 'raw', stream: ring, level: 'debug' }] });
  return { log, lines: () => ring.records as { msg: string; level: number; code?: string }[] };
}


/** Counts what the socket receives from now on; resolves with the count and how it ended ('end', or the error code). */
function received(socket: Socket): Promise<{ bytes: number; ended: 'end' | string }> {
  return new Promise((resolve) => {
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => { bytes += chunk.length; });
    socket.once('end', () => resolve({ bytes, ended: 'end' }));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve({ bytes, ended: err.code ?? 'error' }));
  });
}

/** Sends a line and collects the answer (received()). */
function ask(socket: Socket): Promise<{ bytes: number; ended: 'end' | string }> {
  const answer = received(socket);
  socket.write('GET\n');
  return answer;
}

test('a public connection awaiting its answer finishes across the skeleton\'s stop; the port stops taking new ones; the relay sees a whole tunnel', async (t) => {
  const relayLog = recordingLogger();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: '127.0.0.1', publicPorts: '20000-20099' }, log: relayLog.log });
  const home = await heldServer(t, 256 * 1024);
  const skeleton = await startTestSkeleton(t, world, [{ id: 'home-slow', host: '127.0.0.1', port: home.port, description: '', protocol: 'tcp', publications: [{ server: 'home-slow', url: 'tcp://:20044' }] }]);
  await world.relay.ingress.listening('tcp://:20044');
  const socket = netConnect({ host: '127.0.0.1', port: 20044 });
  await once(socket, 'connect');
  const answer = ask(socket);
  await within(home.gotRequest, 10_000, 'the request at home');

  // The home server is still working on its answer: a second of silence must not cut this one.
  const drainStart = Date.now();
  const closing = skeleton.close({ drainMs: 20_000 });
  await within(new Promise<void>((resolve) => {
    const poll = (): void => void refusedConnect('127.0.0.1', 20044).then((r) => (r === 'ECONNREFUSED' ? resolve() : setImmediate(poll)));
    poll();
  }), 10_000, 'the public port closed for new connections');
  // A sweep well past the idle time (measured from the drain's start) still leaves it running.
  const swept = await within(new Promise<{ at: number; running: number }>((resolve) => {
    skeleton.drain.on('swept', (s) => { if (s.at - drainStart >= 1500) resolve(s); });
  }), 10_000, 'a sweep 1.5 s into the drain');
  t.is(swept.running, 1, 'the stop waits for the answer under way');
  t.false(socket.destroyed);
  home.release();
  t.deepEqual(await within(answer, 10_000, 'the answer'), { bytes: 256 * 1024, ended: 'end' });
  t.deepEqual(await within(closing, 10_000, 'the stop'), { drained: true, cut: 0 });
  const failed = relayLog.lines().filter((l) => l.msg === 'public tunnel failed; its connections were cut');
  t.deepEqual(failed, [], 'the public tunnel ended with its authenticated end');
});

test('a stopping skeleton cuts a tunnel channel that is idle after a second, refuses new channels, and ends within about a second', async (t) => {
  const world = await startWorld(t, { users: USERS });
  const echo = await echoServer(t);
  const secret = newSecret();
  const skeleton = await startTestSkeleton(t, world, [server('home-echo', echo.port, secret)]);
  const client = await connectTestClient(t, world);
  const tunnel = await client.tunnel('home-echo', { secret });
  // An echo connection that answered and is now silent: an idle keep-alive, an ssh session nobody types in.
  const { port: appPort, sockets } = await appSockets(t);
  const local = netConnect({ host: '127.0.0.1', port: appPort });
  await once(local, 'connect');
  const appSide = await sockets.next();
  const channel = tunnel.openChannel(appSide);
  local.write('hello');
  const [echoed] = (await once(local, 'data')) as [Buffer];
  t.is(echoed.toString(), 'hello');
  const closed = new Promise<string>((resolve) => {
    local.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    local.once('close', () => resolve('close'));
  });
  const started = Date.now();
  const firstSweep = new Promise<void>((resolve) => skeleton.drain.once('swept', () => resolve()));
  const closing = skeleton.close({ drainMs: 20_000 });
  await within(firstSweep, 10_000, 'the drain started');
  // Draining: the tunnel is still up for its running channel, but takes no new one.
  const late = netConnect({ host: '127.0.0.1', port: appPort });
  await once(late, 'connect');
  late.on('error', () => undefined);
  const refused = await tunnel.openChannel(await sockets.next()).settled;
  t.like(refused, { opened: false, refused: true, code: 'ERR_SHUTTING_DOWN' });
  const result = await within(closing, 10_000, 'the stop');
  const tookMs = Date.now() - started;
  t.log(`stopped in ${tookMs} ms: ${JSON.stringify(result)}`);
  t.deepEqual(result, { drained: true, cut: 1 });
  t.true(tookMs < 5000, `${tookMs} ms`);
  t.is((await channel.settled).code, 'ERR_CONNECTION_CLOSED', 'the channel was reset, not ended');
  t.is(await closed, 'ECONNRESET', 'the app sees a cut, not a whole answer');
});

/** Resolves with the first `length` characters the socket receives. */
function collect(socket: Socket, length: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      if (text.length < length) return;
      socket.off('data', onData);
      resolve(text);
    };
    socket.on('data', onData);
  });
}

/** A listener whose accepted sockets the test takes one by one (the app side of a forwarded connection). */
async function appSockets(t: Parameters<typeof listenLocal>[0]) {
  const queue: Socket[] = [];
  const waiting: ((s: Socket) => void)[] = [];
  const { port } = await listenLocal(t, (socket) => {
    socket.on('error', () => undefined);
    const next = waiting.shift();
    if (next) next(socket);
    else queue.push(socket);
  });
  return { port, sockets: { next: () => new Promise<Socket>((resolve) => { const s = queue.shift(); if (s) resolve(s); else waiting.push(resolve); }) } };
}

test('a stopping forwarder stops listening, lets the connection awaiting its answer finish, and cuts an idle one', async (t) => {
  const world = await startWorld(t, { users: USERS });
  const home = await heldServer(t, 128 * 1024);
  const echo = await echoServer(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('home-slow', home.port, secret), server('home-echo', echo.port, secret)]);
  const client = await connectTestClient(t, world);
  const slow = await startForwarder({ client, serverId: 'home-slow', secret, host: '127.0.0.1', port: 0, log: silentLogger() });
  const quick = await startForwarder({ client, serverId: 'home-echo', secret, host: '127.0.0.1', port: 0, log: silentLogger() });
  t.teardown(() => quick.close());
  const waiting = netConnect({ host: '127.0.0.1', port: slow.address.port });
  await once(waiting, 'connect');
  const answer = ask(waiting);
  await within(home.gotRequest, 10_000, 'the request at home');

  const closing = slow.close({ drainMs: 20_000 });
  t.is(await refusedConnect('127.0.0.1', slow.address.port), 'ECONNREFUSED', 'no new connection once stopping');
  home.release();
  t.deepEqual(await within(answer, 10_000, 'the answer'), { bytes: 128 * 1024, ended: 'end' });
  t.deepEqual(await within(closing, 10_000, 'the stop'), { drained: true, cut: 0 });

  // An echo connection that answered and went silent is not work in flight: cut after about a second.
  const idle = netConnect({ host: '127.0.0.1', port: quick.address.port });
  await once(idle, 'connect');
  idle.write('hi');
  await once(idle, 'data');
  const ended = new Promise<string>((resolve) => {
    idle.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    idle.once('close', () => resolve('close'));
  });
  t.deepEqual(await within(quick.close({ drainMs: 20_000 }), 10_000, 'the stop'), { drained: true, cut: 1 });
  t.is(await ended, 'ECONNRESET');
});

test('a forwarder whose skeleton is stopping carries new connections, with what they sent, on a new tunnel to the skeleton that takes over, while the running one finishes', async (t) => {
  const world = await startWorld(t, { users: USERS });
  const { port, release, gotRequest } = await heldServer(t, 64 * 1024, { banner: true });
  const secret = newSecret();
  const first = await startTestSkeleton(t, world, [server('home-svc', port, secret)], { instance: 'first' });
  const client = await connectTestClient(t, world);
  const outcomes: string[] = [];
  const fwd = await startForwarder({ client, serverId: 'home-svc', secret, host: '127.0.0.1', port: 0, log: silentLogger(), onStreamEnd: (o) => outcomes.push(o) });
  t.teardown(() => fwd.close());
  const banner = async (socket: Socket): Promise<void> => {
    const [line] = (await once(socket, 'data')) as [Buffer];
    t.is(line.toString(), 'banner\n');
  };
  const running = netConnect({ host: '127.0.0.1', port: fwd.address.port });
  await banner(running);
  const runningAnswer = ask(running);
  await within(gotRequest, 10_000, 'the request at home');

  const drainStarted = new Promise<void>((resolve) => first.drain.once('swept', () => resolve()));
  const stopping = first.close({ drainMs: 20_000 });
  await within(drainStarted, 10_000, 'the first skeleton draining');
  // New connections now, one that waits for the banner and one that speaks at once: the draining
  // skeleton refuses their channels and gives each back whole (what it sent too); the forwarder carries
  // them on a new tunnel once a skeleton serves the id again.
  const quiet = netConnect({ host: '127.0.0.1', port: fwd.address.port });
  const eager = netConnect({ host: '127.0.0.1', port: fwd.address.port });
  for (const s of [quiet, eager]) s.on('error', () => undefined);
  await Promise.all([once(quiet, 'connect'), once(eager, 'connect')]);
  const quietBanner = banner(quiet);
  const eagerText = collect(eager, 'banner\nfirst words'.length);
  eager.write('first words');
  await startTestSkeleton(t, world, [server('home-svc', port, secret)], { instance: 'second' });
  await within(quietBanner, 15_000, 'the banner through the skeleton that took over');
  t.is(await within(eagerText, 15_000, 'the eager connection served'), 'banner\nfirst words', 'what it sent to the stopping skeleton was not lost');
  quiet.write('ping');
  const [echoed] = (await once(quiet, 'data')) as [Buffer];
  t.is(echoed.toString(), 'ping');
  quiet.end();
  eager.end();

  release();
  t.deepEqual(await within(runningAnswer, 10_000, 'the running answer'), { bytes: 64 * 1024, ended: 'end' });
  t.deepEqual(await within(stopping, 10_000, 'the first skeleton stopped'), { drained: true, cut: 0 });
  t.false(outcomes.includes('failed'), JSON.stringify(outcomes));
});

test('a download whose reader pauses is not idle: it survives a skeleton stop across a pause longer than the idle time', async (t) => {
  const world = await startWorld(t, { users: USERS, relay: { publicHost: '127.0.0.1', publicPorts: '20000-20099' } });
  const size = 16 * 1024 * 1024;
  const { port } = await listenLocal(t, (socket) => {
    socket.on('error', () => socket.destroy());
    socket.once('data', () => socket.end(Buffer.alloc(size, 0x62)));
  });
  const skeleton = await startTestSkeleton(t, world, [{ id: 'home-big', host: '127.0.0.1', port, description: '', protocol: 'tcp', publications: [{ server: 'home-big', url: 'tcp://:20045' }] }]);
  await world.relay.ingress.listening('tcp://:20045');
  const reader = netConnect({ host: '127.0.0.1', port: 20045 });
  await once(reader, 'connect');
  const first = new Promise<void>((resolve) => reader.once('data', () => resolve()));
  const download = ask(reader);
  await within(first, 10_000, 'the first bytes');
  reader.pause(); // the reader stops: every window and buffer on the way fills, then nothing moves
  const drainStart = Date.now();
  const closing = skeleton.close({ drainMs: 20_000 });
  const swept = await within(new Promise<{ running: number }>((resolve) => {
    skeleton.drain.on('swept', (s) => { if (s.at - drainStart >= 2500) resolve(s); });
  }), 10_000, 'a sweep 2.5 s into the drain');
  t.is(swept.running, 1, 'silent for more than the idle time, but blocked on its reader: kept');
  reader.resume();
  t.deepEqual(await within(download, 20_000, 'the rest of the download'), { bytes: size, ended: 'end' });
  t.deepEqual(await within(closing, 10_000, 'the stop'), { drained: true, cut: 0 });
});

test('hurry() (a second Ctrl-C) cuts what still runs at once, and the relay still sees the tunnel end whole', async (t) => {
  const relayLog = recordingLogger();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: '127.0.0.1', publicPorts: '20000-20099' }, log: relayLog.log });
  const home = await heldServer(t, 1024);
  const skeleton = await startTestSkeleton(t, world, [{ id: 'home-held', host: '127.0.0.1', port: home.port, description: '', protocol: 'tcp', publications: [{ server: 'home-held', url: 'tcp://:20047' }] }]);
  await world.relay.ingress.listening('tcp://:20047');
  const socket = netConnect({ host: '127.0.0.1', port: 20047 });
  await once(socket, 'connect');
  const answer = ask(socket);
  await within(home.gotRequest, 10_000, 'the request at home');
  const drainStarted = new Promise<void>((resolve) => skeleton.drain.once('swept', () => resolve()));
  const closing = skeleton.close({ drainMs: 60_000 });
  await within(drainStarted, 10_000, 'the drain started');
  skeleton.drain.hurry();
  t.deepEqual(await within(closing, 5_000, 'the stop, well before the 60 s drain'), { drained: false, cut: 1 });
  t.is((await within(answer, 5_000, 'the cut')).ended, 'ECONNRESET', 'the public client sees a cut');
  const failed = relayLog.lines().filter((l) => l.msg === 'public tunnel failed; its connections were cut');
  t.deepEqual(failed, [], 'the public tunnel ended with its authenticated end');
});
