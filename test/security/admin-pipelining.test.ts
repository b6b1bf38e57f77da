/**
 * Outside attack M2 (every socket the relay writes to): the admin HTTP with pipelined requests from a
 * client that never reads. Each connection's requests are answered one at a time, and a connection with
 * more than 8 waiting is cut: 50 pipelined requests build at most 8 answers, not 50 (20,000 of them grew
 * the relay by 2 GB before). A well-behaved keep-alive client is served as before.
 */
import test from 'ava';
import { connect } from 'node:net';
import { once } from 'node:events';
import { LogWatch } from '../helpers/security-log.js';
import { stateReaches } from '../helpers/state-wait.js';
import { startWorld } from '../helpers/world.js';

test('Bounds: 50 pipelined admin requests on a connection that does not read build at most 8 answers and get the connection cut', async (t) => {
  const watch = new LogWatch('relay', 'debug');
  const world = await startWorld(t, { log: watch.log });
  const { port } = world.relay.admin!.address;
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.pause();
  const request = 'GET /api/overview HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
  socket.write(request.repeat(50));
  t.true(await stateReaches(() => socket.closed, 10_000), 'the relay cut the connection');
  const answered = watch.count('admin request');
  t.log(`${answered} answers built for 50 pipelined requests`);
  t.true(answered <= 8, `${answered} answers built`);
  // An ordinary client on a new connection: several requests on one keep-alive connection, in turn.
  for (let i = 0; i < 3; i++) t.is((await fetch(`${world.relay.admin!.url}healthz`)).status, 200);
  t.is((await fetch(`${world.relay.admin!.url}api/overview`)).status, 200);
});

test('Bounds: 100 idle connections to the admin port do not shut out /healthz', async (t) => {
  const world = await startWorld(t);
  const { port } = world.relay.admin!.address;
  const idle = await Promise.all(Array.from({ length: 100 }, async () => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    t.teardown(() => socket.destroy());
    await once(socket, 'connect');
    return socket;
  }));
  t.is(idle.length, 100);
  const res = await fetch(`${world.relay.admin!.url}healthz`);
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { status: 'ok' });
});
