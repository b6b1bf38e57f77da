/**
 * `client connect`'s forwarder through a real relay and skeleton: its connections are channels of one
 * tunnel (one relay stream), or with separateStreams one relay stream each.
 */
import test, { type ExecutionContext } from 'ava';
import { once } from 'node:events';
import { connect as tcpConnect, type Socket } from 'node:net';
import { startForwarder, type StreamOutcome } from '../../client/io/forwarder.js';
import { TunnelSource } from '../../client/io/tunnel-source.js';
import { silentLogger } from '../../shared/log.js';
import type { Tunnel } from '../../shared/tunnel/tunnel.js';
import { pair } from '../helpers/loopback.js';
import { connectTestClient, echoServer, listenLocal, newSecret, server, startTestSkeleton, startWorld } from '../helpers/world.js';

const CONNECTIONS = 20;

/** A local connection through the forwarder that has had one echo round trip (so its channel is open). */
async function echoed(t: ExecutionContext, port: number, text: string): Promise<Socket> {
  const socket = tcpConnect({ host: '127.0.0.1', port });
  t.teardown(() => socket.destroy());
  socket.write(text);
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  t.is(chunk.toString(), text);
  return socket;
}

for (const separateStreams of [false, true]) {
  const expected = separateStreams ? CONNECTIONS : 1;
  test(`${CONNECTIONS} concurrent local connections are ${expected} relay stream(s) ${separateStreams ? 'with' : 'without'} separateStreams`, async (t) => {
    const world = await startWorld(t);
    const echo = await echoServer(t);
    const secret = newSecret();
    await startTestSkeleton(t, world, [server('echo', echo.port, secret)]);
    const client = await connectTestClient(t, world);
    const forwarder = await startForwarder({ client, serverId: 'echo', secret, host: '127.0.0.1', port: 0, log: silentLogger(), separateStreams });
    t.teardown(() => forwarder.close());
    const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => echoed(t, forwarder.address.port, `hello ${i}`)));
    t.is(world.relay.runtime.snapshot().streams.length, expected);
    t.is(echo.connections(), CONNECTIONS, 'each local connection is its own connection to the home server');
    t.is(forwarder.stats().active, CONNECTIONS);
    await Promise.all(sockets.map(async (s) => {
      s.end();
      await once(s, 'close');
    }));
    t.is(forwarder.stats().failed, 0);
  });
}

test('a server that takes an upload and then resets without answering ended a stream that was open, not a failed open', async (t) => {
  const world = await startWorld(t);
  const sink = await listenLocal(t, (s) => {
    s.on('error', () => undefined);
    s.once('data', () => s.resetAndDestroy());
  });
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('sink', sink.port, secret)]);
  const client = await connectTestClient(t, world);
  const outcomes: StreamOutcome[] = [];
  let ended!: () => void;
  const done = new Promise<void>((resolve) => (ended = resolve));
  const forwarder = await startForwarder({
    client, serverId: 'sink', secret, host: '127.0.0.1', port: 0, log: silentLogger(),
    onStreamEnd: (outcome) => { outcomes.push(outcome); ended(); },
  });
  t.teardown(() => forwarder.close());
  const local = tcpConnect({ host: '127.0.0.1', port: forwarder.address.port });
  local.on('error', () => undefined);
  const closed = new Promise((resolve) => local.once('close', resolve)); // after a reset passed on
  local.write(Buffer.alloc(64 * 1024, 1));
  await closed;
  await done;
  t.deepEqual(outcomes, ['ok']);
  t.is(forwarder.stats().failed, 0);
});

test('when the skeleton goes away the tunnel is lost; the next connection opens a new one to the skeleton that took over', async (t) => {
  const world = await startWorld(t);
  const echo = await echoServer(t);
  const secret = newSecret();
  const first = await startTestSkeleton(t, world, [server('echo', echo.port, secret)]);
  const client = await connectTestClient(t, world);
  const forwarder = await startForwarder({ client, serverId: 'echo', secret, host: '127.0.0.1', port: 0, log: silentLogger() });
  t.teardown(() => forwarder.close());
  const before = await echoed(t, forwarder.address.port, 'one');
  const lost = new Promise<string | undefined>((resolve) => {
    before.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
    before.once('close', () => resolve(undefined));
  });
  await first.close();
  t.is(await lost, 'ECONNRESET', 'its channel went with the tunnel, and the app sees a cut, not an end');
  await startTestSkeleton(t, world, [server('echo', echo.port, secret)]);
  const after = await echoed(t, forwarder.address.port, 'two');
  after.end();
  await once(after, 'close');
  t.is(world.relay.runtime.snapshot().streams.length, 1, 'one new tunnel');
});

test('a tunnel without channels for the idle time is ended, and the next connection opens a new one', async (t) => {
  const world = await startWorld(t);
  const echo = await echoServer(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('echo', echo.port, secret)]);
  const client = await connectTestClient(t, world);
  const opened: Tunnel[] = [];
  const source = new TunnelSource(async () => {
    const tunnel = await client.tunnel('echo', { secret });
    opened.push(tunnel);
    return tunnel;
  }, silentLogger(), 50);
  t.teardown(() => source.close());
  const roundTrip = async (text: string): Promise<void> => {
    const { a: app, b: local } = await pair(t);
    local.pause();
    await source.openChannel(local);
    app.end(text);
    const chunks: Buffer[] = [];
    app.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((resolve) => app.once('close', resolve));
    t.is(Buffer.concat(chunks).toString(), text);
  };
  await roundTrip('first');
  const [code] = await once(opened[0]!, 'close');
  t.is(code, undefined, 'ended cleanly after the idle time');
  await roundTrip('second');
  t.is(opened.length, 2);
});
