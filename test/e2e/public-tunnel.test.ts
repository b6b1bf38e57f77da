/**
 * Public connections ride one tunnel per publication (relay/io/public-tunnels.ts): a public connection
 * costs a channel, not a data connection and a handshake of its own. Each is still its own stream to the
 * operator (audit line, id), the tunnel follows the publication when another session takes it over, and
 * a stopping relay ends its idle tunnels instead of waiting for them.
 */
import test from 'ava';
import { once } from 'node:events';
import http from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import type { StreamAudit } from '../../relay/index.js';
import type { RelayNote } from '../../relay/core/relay-events.js';
import { echoThrough } from '../helpers/public-net.js';
import { stateReaches } from '../helpers/state-wait.js';
import { echoServer, listenLocal, newSecret, privateLoopback, server, startTestSkeleton, startWorld, type UserSpec } from '../helpers/world.js';

const USERS: Record<string, UserSpec> = {
  home: { roles: ['skeleton'], serve: ['home-*'], publish: ['tcp:20100-20199', '*.tunnel.example.net'] },
};

/** A home server that answers every chunk with `tag:` and the chunk, and ends when its client does. */
async function taggingServer(t: Parameters<typeof listenLocal>[0], tag: string): Promise<number> {
  const { port } = await listenLocal(t, (socket) => {
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => socket.write(`${tag}:${chunk.toString()}`));
    socket.on('end', () => socket.end());
  });
  return port;
}

async function openPublic(host: string, port: number): Promise<Socket> {
  const socket = netConnect({ host, port });
  socket.setEncoding('utf8');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

async function say(socket: Socket, text: string): Promise<string> {
  socket.write(text);
  const [answer] = await once(socket, 'data') as [string];
  return answer;
}

test('twenty public connections ride one tunnel: one join at the relay, twenty home connections, twenty audit lines of their own', async (t) => {
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, publicPorts: '20100-20199' } });
  const echo = await echoServer(t);
  const joins: RelayNote[] = [];
  world.relay.runtime.on('note', (note: RelayNote) => { if (note.kind === 'joined') joins.push(note); });
  const audits: StreamAudit[] = [];
  world.relay.on('stream-closed', (a) => audits.push(a));
  const { secret: _unused, ...noSecret } = server('home-echo', echo.port, newSecret());
  await startTestSkeleton(t, world, [{ ...noSecret, publications: [{ server: 'home-echo', url: 'tcp://:20101' }] }]);
  await world.relay.ingress.listening('tcp://:20101');
  for (let i = 0; i < 20; i++) t.is(await echoThrough(host, 20101, `hello ${i}`), `hello ${i}`);
  t.is(echo.connections(), 20);
  t.is(joins.length, 1, 'one data connection joined, for the tunnel');
  t.is(world.relay.runtime.publicTunnels.size, 1);
  t.true(await stateReaches(() => audits.length === 20), 'an audit line per public connection');
  t.is(new Set(audits.map((a) => a.stream)).size, 20);
  t.true(audits.every((a) => a.publication === 'tcp://:20101' && /^127\.0\.0\.1:\d+$/.test(a.source ?? '') && a.reason === 'ok'));
  t.deepEqual(audits.map((a) => a.bytesClientToServer).sort((a, b) => a - b), [...Array(20).keys()].map((i) => `hello ${i}`.length).sort((a, b) => a - b));
});

test('a session that takes a publication over gets the next public connection at once, while one running on the old tunnel runs on', async (t) => {
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, publicPorts: '20100-20199' } });
  const portA = await taggingServer(t, 'A');
  const portB = await taggingServer(t, 'B');
  const publications = [{ server: 'home-tag', url: 'tcp://:20102' }];
  const strip = (s: ReturnType<typeof server>) => { const { secret: _unused, ...rest } = s; return rest; };
  await startTestSkeleton(t, world, [{ ...strip(server('home-tag', portA, newSecret())), publications }], { instance: 'a' });
  await world.relay.ingress.listening('tcp://:20102');
  const running = await openPublic(host, 20102);
  t.is(await say(running, 'one'), 'A:one');
  // The same account and instance comes back with another home server (a skeleton restarted elsewhere).
  const second = await startTestSkeleton(t, world, [{ ...strip(server('home-tag', portB, newSecret())), publications }], { instance: 'a' });
  t.deepEqual(second.advertised.published, ['tcp://:20102']);
  const fresh = await openPublic(host, 20102);
  t.is(await say(fresh, 'two'), 'B:two', 'the new connection reached the session that holds the publication now');
  t.is(await say(running, 'three'), 'A:three', 'the connection on the old tunnel was not cut');
  fresh.destroy();
  running.destroy();
});

test('a stopping relay drains a public connection in flight on its tunnel, then stops', async (t) => {
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, publicPorts: '20100-20199' } });
  const port = await taggingServer(t, 'H');
  const { secret: _unused, ...noSecret } = server('home-tag', port, newSecret());
  await startTestSkeleton(t, world, [{ ...noSecret, publications: [{ server: 'home-tag', url: 'tcp://:20103' }] }]);
  await world.relay.ingress.listening('tcp://:20103');
  const running = await openPublic(host, 20103);
  t.is(await say(running, 'before'), 'H:before');
  t.is(world.relay.runtime.activeStreams, 1, 'the public connection is a stream in flight');
  let stopped = false;
  const stopping = world.relay.close({ drainMs: 60_000 }).then(() => { stopped = true; });
  t.is(await say(running, 'during'), 'H:during', 'the connection still works while the relay drains');
  t.false(stopped);
  running.end();
  await once(running, 'close');
  await stopping;
  t.is(world.relay.runtime.activeStreams, 0);
  t.is(world.relay.runtime.publicTunnels.size, 0, 'the tunnel ended with its last channel');
});

test('a stopping relay lets an HTTP answer under way finish, tells a new request on another connection 503, then stops', async (t) => {
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, httpPort: 8080 } });
  let release!: () => void;
  const released = new Promise<void>((resolve) => { release = resolve; });
  let arrived!: () => void;
  const slowArrived = new Promise<void>((resolve) => { arrived = resolve; });
  const home = http.createServer((req, res) => {
    if (req.url === '/slow') {
      arrived();
      void released.then(() => res.end('slow answer'));
    } else res.end('quick answer');
  });
  await new Promise<void>((resolve) => home.listen(0, '127.0.0.1', resolve));
  t.teardown(() => home.close());
  const homePort = (home.address() as { port: number }).port;
  const { secret: _unused, ...noSecret } = server('home-web', homePort, newSecret());
  await startTestSkeleton(t, world, [{ ...noSecret, protocol: 'http', publications: [{ server: 'home-web', url: 'http://www.tunnel.example.net' }] }]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const get = (path: string, a: http.Agent = agent) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.get({ host, port: 8080, path, agent: a, headers: { Host: 'www.tunnel.example.net' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  const other = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => other.destroy());
  t.deepEqual(await get('/', other), { status: 200, body: 'quick answer' });
  const slow = get('/slow');
  await slowArrived;
  let stopped = false;
  const stopping = world.relay.close({ drainMs: 60_000 }).then(() => { stopped = true; });
  // The other keep-alive connection was idle: it is closed, so a new request there fails or, if it
  // raced the close, is told to come back later.
  const late = await get('/', other).then((r) => r.status, (err: NodeJS.ErrnoException) => err.code ?? 'error');
  t.true(late === 503 || late === 'ECONNRESET' || late === 'ECONNREFUSED' || late === 'EPIPE', `late request: ${String(late)}`);
  t.false(stopped, 'the relay waits for the answer under way');
  release();
  t.deepEqual(await slow, { status: 200, body: 'slow answer' });
  await stopping;
});
